/* What the C guests share: checks that print one line each, as the Rust guests do
 * (tests/guests/rust/src/lib.rs): `label: ok`, or `label: ...  <-- FAIL, want ...` and a
 * failure counted; `finish()` prints the summary and exits 1 if anything failed.
 *
 * asserts must stay active: they guard the steps later checks depend on.
 *
 * The functions are `static inline`: a guest that uses only some of them gets no
 * unused-function warning (the guests are built with -Werror). */
#ifdef NDEBUG
#error "the C guests need assert(): build them without -DNDEBUG"
#endif

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;

/* The symbolic name of the errno values the guests expect. */
static inline const char *errno_name(int e) {
    switch (e) {
    case 0: return "0";
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case EISDIR: return "EISDIR";
    case ELOOP: return "ELOOP";
    case ENOENT: return "ENOENT";
    case ENOTCAPABLE: return "ENOTCAPABLE";
    case ENOTDIR: return "ENOTDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EPERM: return "EPERM";
    case ESPIPE: return "ESPIPE";
    default: return strerror(e);
    }
}

/* A condition. */
#define CHECK(label, cond) check_cond((label), (cond), #cond)
static inline void check_cond(const char *label, int cond, const char *what) {
    checks++;
    if (cond) {
        printf("%s: ok\n", label);
    } else {
        failures++;
        printf("%s: false  <-- FAIL, want %s\n", label, what);
    }
}

/* A call that must fail (return -1) with errno `want`. (Statement expressions, a clang and
 * GCC extension: errno must be read after the call, in sequence.) */
#define CHECK_ERRNO(label, call, want) \
    ({ errno = 0; long r_ = (long)(call); check_errno((label), r_, errno, (want)); })
static inline void check_errno(const char *label, long ret, int err, int want) {
    checks++;
    if (ret == -1 && err == want) {
        printf("%s: %s\n", label, errno_name(err));
    } else {
        failures++;
        if (ret == -1)
            printf("%s: %s  <-- FAIL, want %s\n", label, errno_name(err), errno_name(want));
        else
            printf("%s: returned %ld  <-- FAIL, want %s\n", label, ret, errno_name(want));
    }
}

/* A call that must fail with errno `want` or `or` (where libc versions differ). */
#define CHECK_ERRNO2(label, call, want, or) \
    ({ errno = 0; long r_ = (long)(call); check_errno2((label), r_, errno, (want), (or)); })
static inline void check_errno2(const char *label, long ret, int err, int want, int or) {
    checks++;
    if (ret == -1 && (err == want || err == or)) {
        printf("%s: %s\n", label, errno_name(err));
    } else {
        failures++;
        printf("%s: %s  <-- FAIL, want %s or %s\n", label, ret == -1 ? errno_name(err) : "success",
               errno_name(want), errno_name(or));
    }
}

/* A call that must succeed (return 0 or more). */
#define CHECK_OK(label, call) \
    ({ errno = 0; long r_ = (long)(call); check_ok((label), r_, errno); })
static inline long check_ok(const char *label, long ret, int err) {
    checks++;
    if (ret >= 0) {
        printf("%s: ok\n", label);
    } else {
        failures++;
        printf("%s: %s  <-- FAIL, want success\n", label, errno_name(err));
    }
    return ret;
}

/* Two strings. */
static inline void check_str(const char *label, const char *got, const char *want) {
    checks++;
    if (got && strcmp(got, want) == 0) {
        printf("%s: \"%s\"\n", label, got);
    } else {
        failures++;
        printf("%s: \"%s\"  <-- FAIL, want \"%s\"\n", label, got ? got : "(null)", want);
    }
}

/* Two numbers. */
static inline void check_long(const char *label, long long got, long long want) {
    checks++;
    if (got == want) {
        printf("%s: %lld\n", label, got);
    } else {
        failures++;
        printf("%s: %lld  <-- FAIL, want %lld\n", label, got, want);
    }
}

static inline void finish(const char *name) {
    if (failures == 0) {
        printf("%s: %d checks ok\n", name, checks);
        exit(0);
    }
    printf("%s: %d of %d checks FAILED\n", name, failures, checks);
    exit(1);
}
