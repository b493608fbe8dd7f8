# A stand-in for google/packetdrill's gtests/net/common/defaults.sh (tcpwave's own text,
# not a copy): the runner knows a defaults.sh by its name and applies packetdrill's
# settings, then takes the tcp_fastopen line from the file when it can read it.
sysctl -q net.ipv4.tcp_fastopen=0x70403
