// ugrom: a file mapped read-only into memory, as a board maps its ROMFS partition from
// flash. The unix port has no flash partition: `ugrom.segment(path)` maps a ROMFS image
// file (mpremote romfs build, upnp-guard-build --romfs) and returns a memoryview of it.
// The mapping lives outside the garbage-collected heap, so `vfs.VfsRom` over it executes
// .mpy bytecode in place, exactly as from a board's memory-mapped flash; it is never
// unmapped (a partition is not either). Only a regular file of 1 byte to 16 MB is mapped
// (a directory, a device, a FIFO: ValueError, which the loader reads as no ROMFS). A file
// truncated while mapped raises SIGBUS on the next read of a page past its end: the
// process dies (a board's partition cannot shrink; this is only the test stand-in). Built into the unix port by scripts/build-firmware
// (USER_C_MODULES); never part of a board's image (ESP32 firmware maps its partition
// itself: vfs.rom_ioctl).
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "py/obj.h"
#include "py/objarray.h"
#include "py/runtime.h"

// The largest image accepted: a board's ROMFS partition is far smaller (128 KB on
// MicroPython's 4 MiB ESP32 table with one).
#define UGROM_MAX_BYTES (16 * 1024 * 1024)

static mp_obj_t ugrom_segment(mp_obj_t path_in) {
    const char *path = mp_obj_str_get_str(path_in);
    // O_NONBLOCK: a FIFO at the path would otherwise block the loader until a writer
    // comes; it is refused below like any file that is not a regular one.
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        mp_raise_OSError(errno);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        mp_raise_OSError(err);
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > UGROM_MAX_BYTES) {
        close(fd);
        mp_raise_ValueError(MP_ERROR_TEXT("ROMFS image size"));
    }
    void *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    close(fd);
    if (data == MAP_FAILED) {
        mp_raise_OSError(err);
    }
    return mp_obj_new_memoryview('B', (size_t)st.st_size, data);
}
static MP_DEFINE_CONST_FUN_OBJ_1(ugrom_segment_obj, ugrom_segment);

static const mp_rom_map_elem_t ugrom_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_ugrom) },
    { MP_ROM_QSTR(MP_QSTR_segment), MP_ROM_PTR(&ugrom_segment_obj) },
};
static MP_DEFINE_CONST_DICT(ugrom_globals, ugrom_globals_table);

const mp_obj_module_t ugrom_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&ugrom_globals,
};

MP_REGISTER_MODULE(MP_QSTR_ugrom, ugrom_module);
