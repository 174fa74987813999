# The unix port's stand-in for a board's ROMFS partition (scripts/build-firmware).
UGROM_MOD_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(UGROM_MOD_DIR)/ugrom.c
