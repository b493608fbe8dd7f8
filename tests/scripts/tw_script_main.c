/*
 * tw_script_main.c -- the standalone `tw_script` runner used by CTest, so the script
 * suite does not depend on the `tcpwave` tool; same behaviour as `tcpwave script`.
 */
#include "script/script.h"

int main(int argc, char **argv)
{
    return tw_script_main(argc, argv);
}
