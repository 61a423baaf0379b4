/* The POSIX file system layer of wasi-libc over wasirun.
 *
 * `posix_fs DIR`: DIR is the guest name of a preopen (an absolute path, e.g. /sandbox), which
 * holds `input.txt` ("from the host\n"). Leaves behind, for the host to check:
 *
 *   DIR/d/f.txt        "HELLO"       (written, truncated, overwritten with pwrite)
 *   DIR/d/renamed      hard link to d/f.txt
 *   DIR/d/sym          symlink -> f.txt
 *   DIR/full/x         "x"
 *   DIR/stamped        mtime 1234567890.5 s
 *   DIR/at.txt         "openat"
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static char path_buf[8][512];
static int path_next;

/* DIR/rel, in one of a few rotating buffers. */
static const char *dir_;
static const char *P(const char *rel) {
    char *buf = path_buf[path_next++ % 8];
    snprintf(buf, sizeof path_buf[0], "%s/%s", dir_, rel);
    return buf;
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, joined by spaces. */
static const char *listing(const char *path) {
    static char out[1024];
    char *names[64];
    int n = 0;
    DIR *d = opendir(path);
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, names[i]);
        free(names[i]);
    }
    return out;
}

int main(int argc, char **argv) {
    assert(argc == 2);
    dir_ = argv[1];
    char buf[256];
    struct stat st;
    int fd;
    ssize_t n;

    /* Read what the host wrote. */
    fd = CHECK_OK("open(input.txt, O_RDONLY)", open(P("input.txt"), O_RDONLY));
    assert(fd >= 0);
    n = read(fd, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    check_str("read(input.txt)", buf, "from the host\n");
    check_long("read at end of file", read(fd, buf, sizeof buf), 0);
    close(fd);
    FILE *f = fopen(P("input.txt"), "r");
    assert(f);
    check_str("fgets(input.txt)", fgets(buf, sizeof buf, f), "from the host\n");
    fclose(f);

    /* mkdir, open(O_CREAT), write, read, lseek, fstat, stat. */
    CHECK_OK("mkdir(d)", mkdir(P("d"), 0755));
    CHECK_ERRNO("mkdir(d) again", mkdir(P("d"), 0755), EEXIST);
    fd = CHECK_OK("open(d/f.txt, O_CREAT|O_WRONLY|O_TRUNC)", open(P("d/f.txt"), O_CREAT | O_WRONLY | O_TRUNC, 0644));
    assert(fd >= 0);
    check_long("write(hello world)", write(fd, "hello world\n", 12), 12);
    CHECK_ERRNO("read(write-only fd)", read(fd, buf, 1), EBADF);
    CHECK_OK("close", close(fd));
    CHECK_ERRNO("close(closed fd)", close(fd), EBADF);

    fd = CHECK_OK("open(d/f.txt, O_RDONLY)", open(P("d/f.txt"), O_RDONLY));
    assert(fd >= 0);
    check_long("lseek(6, SEEK_SET)", lseek(fd, 6, SEEK_SET), 6);
    n = read(fd, buf, 5);
    buf[n < 0 ? 0 : n] = 0;
    check_str("read after lseek", buf, "world");
    check_long("lseek(0, SEEK_CUR)", lseek(fd, 0, SEEK_CUR), 11);
    check_long("lseek(0, SEEK_END)", lseek(fd, 0, SEEK_END), 12);
    CHECK_ERRNO("lseek(-100, SEEK_SET)", lseek(fd, -100, SEEK_SET), EINVAL);
    CHECK_ERRNO("write(read-only fd)", write(fd, "x", 1), EBADF);
    CHECK_OK("fstat", fstat(fd, &st));
    CHECK("fstat: a regular file", S_ISREG(st.st_mode));
    check_long("fstat: st_size", st.st_size, 12);
    check_long("fstat: st_nlink", st.st_nlink, 1);
    close(fd);
    CHECK_OK("stat(d)", stat(P("d"), &st));
    CHECK("stat(d): a directory", S_ISDIR(st.st_mode));
    CHECK_OK("access(d/f.txt, F_OK)", access(P("d/f.txt"), F_OK));
    CHECK_ERRNO("access(missing, F_OK)", access(P("missing"), F_OK), ENOENT);

    /* ftruncate, pwrite, pread. */
    fd = CHECK_OK("open(d/f.txt, O_RDWR)", open(P("d/f.txt"), O_RDWR));
    assert(fd >= 0);
    CHECK_OK("ftruncate(5)", ftruncate(fd, 5));
    CHECK_OK("fstat", fstat(fd, &st));
    check_long("size after ftruncate", st.st_size, 5);
    check_long("pwrite(HELLO, 0)", pwrite(fd, "HELLO", 5, 0), 5);
    n = pread(fd, buf, sizeof buf - 1, 1);
    buf[n < 0 ? 0 : n] = 0;
    check_str("pread(at 1)", buf, "ELLO");
    check_long("offset untouched by pread/pwrite", lseek(fd, 0, SEEK_CUR), 0);
    CHECK_OK("fsync", fsync(fd));
    CHECK_OK("fdatasync", fdatasync(fd));
    CHECK_OK("posix_fadvise", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
    close(fd);

    /* O_APPEND and O_EXCL. */
    fd = CHECK_OK("open(d/log, O_CREAT|O_EXCL|O_WRONLY|O_APPEND)", open(P("d/log"), O_CREAT | O_EXCL | O_WRONLY | O_APPEND, 0600));
    assert(fd >= 0);
    write(fd, "1", 1);
    lseek(fd, 0, SEEK_SET);
    write(fd, "2", 1);
    close(fd);
    fd = open(P("d/log"), O_RDONLY);
    n = read(fd, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    check_str("O_APPEND writes at the end", buf, "12");
    close(fd);
    CHECK_ERRNO("open(d/log, O_CREAT|O_EXCL)", open(P("d/log"), O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
    CHECK_OK("unlink(d/log)", unlink(P("d/log")));

    /* link, symlink, readlink, lstat, rename. */
    CHECK_OK("link(d/f.txt, d/hard)", link(P("d/f.txt"), P("d/hard")));
    CHECK_OK("stat(d/hard)", stat(P("d/hard"), &st));
    check_long("nlink after link", st.st_nlink, 2);
    CHECK_ERRNO("link onto an existing name", link(P("d/f.txt"), P("d/hard")), EEXIST);
    CHECK_OK("symlink(f.txt, d/sym)", symlink("f.txt", P("d/sym")));
    CHECK_ERRNO("symlink onto an existing name", symlink("f.txt", P("d/sym")), EEXIST);
    n = readlink(P("d/sym"), buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    check_str("readlink(d/sym)", buf, "f.txt");
    CHECK_ERRNO("readlink(a regular file)", readlink(P("d/f.txt"), buf, sizeof buf), EINVAL);
    CHECK_OK("lstat(d/sym)", lstat(P("d/sym"), &st));
    CHECK("lstat: a symlink", S_ISLNK(st.st_mode));
    CHECK_OK("stat(d/sym)", stat(P("d/sym"), &st));
    CHECK("stat follows the symlink", S_ISREG(st.st_mode) && st.st_size == 5);
    CHECK_OK("rename(d/hard, d/renamed)", rename(P("d/hard"), P("d/renamed")));
    CHECK_ERRNO("stat(d/hard) after rename", stat(P("d/hard"), &st), ENOENT);
    check_str("readdir(d)", listing(P("d")), ". .. f.txt renamed sym");

    /* utimensat, futimens. */
    fd = open(P("stamped"), O_CREAT | O_WRONLY, 0644);
    assert(fd >= 0);
    struct timespec ts[2] = {{1000000000, 0}, {1000000001, 0}};
    CHECK_OK("futimens", futimens(fd, ts));
    CHECK_OK("fstat", fstat(fd, &st));
    check_long("mtime after futimens", st.st_mtim.tv_sec, 1000000001);
    close(fd);
    struct timespec ts2[2] = {{0, UTIME_OMIT}, {1234567890, 500000000}};
    CHECK_OK("utimensat(stamped)", utimensat(AT_FDCWD, P("stamped"), ts2, 0));
    CHECK_OK("stat(stamped)", stat(P("stamped"), &st));
    check_long("mtime after utimensat: s", st.st_mtim.tv_sec, 1234567890);
    check_long("mtime after utimensat: ns", st.st_mtim.tv_nsec, 500000000);
    check_long("atime left alone by UTIME_OMIT", st.st_atim.tv_sec, 1000000000);

    /* openat relative to an opened directory, fdopendir. */
    int dfd = CHECK_OK("open(DIR, O_DIRECTORY)", open(dir_, O_RDONLY | O_DIRECTORY));
    assert(dfd >= 0);
    fd = CHECK_OK("openat(dfd, at.txt, O_CREAT)", openat(dfd, "at.txt", O_CREAT | O_WRONLY, 0644));
    write(fd, "openat", 6);
    close(fd);
    CHECK_OK("fstatat(dfd, at.txt)", fstatat(dfd, "at.txt", &st, 0));
    check_long("fstatat size", st.st_size, 6);
    CHECK_OK("mkdirat(dfd, tmpdir)", mkdirat(dfd, "tmpdir", 0755));
    CHECK_OK("unlinkat(dfd, tmpdir, AT_REMOVEDIR)", unlinkat(dfd, "tmpdir", AT_REMOVEDIR));
    close(dfd);

    /* chdir makes relative paths work. */
    CHECK_OK("chdir(DIR/d)", chdir(P("d")));
    CHECK_OK("stat(f.txt) relative", stat("f.txt", &st));
    check_str("getcwd", getcwd(buf, sizeof buf), P("d"));
    CHECK_OK("chdir(..)", chdir(".."));

    /* rmdir, and the errno values of the POSIX layer. */
    CHECK_OK("mkdir(empty)", mkdir(P("empty"), 0755));
    CHECK_OK("rmdir(empty)", rmdir(P("empty")));
    CHECK_OK("mkdir(full)", mkdir(P("full"), 0755));
    fd = open(P("full/x"), O_CREAT | O_WRONLY, 0644);
    write(fd, "x", 1);
    close(fd);
    CHECK_OK("mkdir(empty2)", mkdir(P("empty2"), 0755));
    CHECK_ERRNO("open(missing)", open(P("missing"), O_RDONLY), ENOENT);
    CHECK_ERRNO("opendir(missing)", opendir(P("missing")) ? 0 : -1, ENOENT);
    CHECK_ERRNO("stat(missing/x)", stat(P("missing/x"), &st), ENOENT);
    CHECK_ERRNO("unlink(missing)", unlink(P("missing")), ENOENT);
    CHECK_ERRNO("rename(missing, x)", rename(P("missing"), P("x")), ENOENT);
    CHECK_ERRNO("mkdir(d/f.txt)", mkdir(P("d/f.txt"), 0755), EEXIST);
    CHECK_ERRNO("open(d/f.txt/x)", open(P("d/f.txt/x"), O_RDONLY), ENOTDIR);
    CHECK_ERRNO("open(d/f.txt, O_DIRECTORY)", open(P("d/f.txt"), O_RDONLY | O_DIRECTORY), ENOTDIR);
    CHECK_ERRNO("opendir(d/f.txt)", opendir(P("d/f.txt")) ? 0 : -1, ENOTDIR);
    CHECK_ERRNO("rmdir(d/f.txt)", rmdir(P("d/f.txt")), ENOTDIR);
    CHECK_ERRNO("unlink(d)", unlink(P("d")), EISDIR);
    CHECK_ERRNO("open(d, O_WRONLY)", open(P("d"), O_WRONLY), EISDIR);
    CHECK_ERRNO("rename(d/f.txt, empty2)", rename(P("d/f.txt"), P("empty2")), EISDIR);
    CHECK_ERRNO("rmdir(full)", rmdir(P("full")), ENOTEMPTY);
    CHECK_ERRNO("rename(empty2, full)", rename(P("empty2"), P("full")), ENOTEMPTY);
    CHECK_OK("remove(empty2)", remove(P("empty2")));
    /* No preopen matches: libc fails the call itself (ENOTCAPABLE before wasi-libc 2023). */
    CHECK_ERRNO2("open(/etc/passwd): outside every preopen", open("/etc/passwd", O_RDONLY), ENOENT, ENOTCAPABLE);
    CHECK_ERRNO("open(DIR/../x): out of the preopen", open(P("../x"), O_RDONLY | O_CREAT, 0644), EPERM);

    finish("posix_fs");
}
