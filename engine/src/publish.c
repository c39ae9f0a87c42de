/*
 * publish.c - giving a finished output file its name.
 *
 * Every output (the GeoPackage, a picture) is written under a temporary name
 * next to its target and renamed when complete. Whether the target may be
 * replaced is checked before the inputs are read, but a run takes minutes,
 * and a file can appear at the target meanwhile (another run, a user). Without
 * overwrite that file must survive, so the last step is an atomic "rename
 * unless the name is taken", never a check followed by a rename.
 */
#define _GNU_SOURCE /* renameat2() and RENAME_NOREPLACE in <stdio.h> */

#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The longest temporary name: a file system's longest name (255 bytes on
 * ext4, XFS, NFS), less room for what SQLite adds ("-journal"). */
#define TEMP_NAME_MAX (255 - 16)

/* The outputs this process has begun: with its id, a temporary name no
 * other call takes, also one on another thread writing the same path. */
static atomic_ulong temp_count;

char *stapel__temp_path(const char *path, const char *suffix)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dir_len;
    unsigned long k = atomic_fetch_add(&temp_count, 1) + 1;
    char pid[64];
    snprintf(pid, sizeof pid, ".%ld.%lu", (long)getpid(), k);
    /* "." base pid suffix: a long base is cut, so that a name the file
     * system takes gets a temporary name it takes too; not inside a UTF-8
     * character (some file systems refuse such names), and with a hash of
     * the whole base, so that two long names alike in their first 200
     * bytes still get two temporary names. */
    size_t base_len = strlen(base);
    size_t room = TEMP_NAME_MAX - 1 - strlen(pid) - strlen(suffix);
    if (base_len > room) {
        snprintf(pid, sizeof pid, ".%016llx.%ld.%lu", (unsigned long long)stapel__str_hash(base),
                 (long)getpid(), k);
        base_len = TEMP_NAME_MAX - 1 - strlen(pid) - strlen(suffix);
        while (base_len > 0 && ((unsigned char)base[base_len] & 0xC0) == 0x80)
            base_len--;
    }
    size_t n = dir_len + 1 + base_len + strlen(pid) + strlen(suffix) + 1;
    char *tmp = malloc(n);
    if (tmp != NULL)
        snprintf(tmp, n, "%.*s.%.*s%s%s", (int)dir_len, path, (int)base_len, base, pid, suffix);
    return tmp;
}

/* True when errno says the file system (or the kernel) cannot do the call,
 * as opposed to a refusal of this particular rename or link. */
static bool unsupported(int err)
{
    return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP || err == ENOTSUP;
}

/* Move tmp to path unless path exists. 0 on success, else -1 with errno
 * (EEXIST when path exists). */
static int rename_noreplace(const char *tmp, const char *path)
{
#ifdef STAPEL_HAVE_RENAMEAT2
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return 0;
    if (!unsupported(errno))
        return -1;
#endif
    /* NFS and older kernels answer EINVAL: a hard link is just as atomic
     * (it fails with EEXIST when the name is taken), and the temporary name
     * is then removed. Should that fail, the output is in place all the
     * same, with a second name that only costs a directory entry. */
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return 0;
    }
    if (errno != EPERM && !unsupported(errno))
        return -1;
    /* A file system with neither (some SMB and FUSE mounts; EPERM is how
     * Linux says a file system has no hard links): check and rename, which
     * leaves only the instant between the two open. */
    struct stat sb;
    if (lstat(path, &sb) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(tmp, path);
}

stapel_status stapel__publish(stapel_ctx *ctx, const char *tmp, const char *path, bool overwrite)
{
    int rc = overwrite ? rename(tmp, path) : rename_noreplace(tmp, path);
    if (rc == 0)
        return STAPEL_OK;
    if (errno == EEXIST)
        return stapel__fail(ctx, STAPEL_EEXISTS,
                            "'%s' exists (it appeared while stapel was writing); use "
                            "--overwrite to replace it",
                            path);
    return stapel__fail(ctx, STAPEL_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                        stapel__strerror(errno));
}
