/*
 * script.h -- `tcpwave script`: run packetdrill-syntax scripts against tcpwave.
 *
 * Each script runs against a fresh stack on virtual time; the interpreter plays the
 * remote peer and the application. See `tcpwave script --help`.
 */
#ifndef TW_SCRIPT_H
#define TW_SCRIPT_H

/* Entry point of `tcpwave script [options] FILE...`. argv[0] is the command's name and is
   ignored; options and files follow. Prints PASS/FAIL/SKIP per file and a final
   "N passed, N failed, N skipped" line on stdout. Returns the exit status: 0 when no
   script failed, 1 when one did, 2 for bad arguments (usage on stderr). */
int tw_script_main(int argc, char **argv);

#endif
