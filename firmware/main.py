# UPnP Guard agent: what MicroPython runs at boot (and the unix port's entry point, with
# the arguments ugboot.py lists). The loader, ugboot.py beside this file, picks the code
# to run (an update slot, a ROMFS, the frozen or source modules) and imports the agent;
# it is dropped from the heap before the agent runs. Neither file is replaced by updates.
import sys

import ugboot

main = ugboot.main
del sys.modules["ugboot"], ugboot
main()
