/* The process side of wasi-libc over wasirun: argv, the environment, clocks, sleeping,
 * poll(), randomness, stdio.
 *
 * `posix_proc ARGS...`: the host passes GREETING=hello in the environment and "abc" on stdin
 * (a pipe it then closes). Prints argv and the environment for the host to compare; exits
 * with the status given by an argument `exit=N`, if any.
 */
#include "check.h"

#include <poll.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(clockid_t clock) {
    struct timespec ts;
    int r = clock_gettime(clock, &ts);
    assert(r == 0);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    int status = 0;
    for (int i = 0; i < argc; i++) {
        printf("argv[%d] = \"%s\"\n", i, argv[i]);
        if (strncmp(argv[i], "exit=", 5) == 0)
            status = atoi(argv[i] + 5);
    }
    for (char **e = environ; *e; e++)
        printf("env: %s\n", *e);
    check_str("getenv(GREETING)", getenv("GREETING"), "hello");
    CHECK("getenv(NOT_SET) is NULL", getenv("NOT_SET") == NULL);
    CHECK_OK("setenv(ADDED)", setenv("ADDED", "1", 1));
    check_str("getenv(ADDED)", getenv("ADDED"), "1");

    /* Clocks. */
    struct timespec res;
    CHECK_OK("clock_getres(CLOCK_REALTIME)", clock_getres(CLOCK_REALTIME, &res));
    CHECK("realtime resolution > 0", res.tv_sec > 0 || res.tv_nsec > 0);
    CHECK_OK("clock_getres(CLOCK_MONOTONIC)", clock_getres(CLOCK_MONOTONIC, &res));
    long long rt = now_ns(CLOCK_REALTIME);
    printf("realtime seconds: %lld\n", rt / 1000000000LL);
    time_t t = time(NULL);
    CHECK("time() agrees with CLOCK_REALTIME", t >= rt / 1000000000LL - 1 && t <= rt / 1000000000LL + 1);
    CHECK("CLOCK_PROCESS_CPUTIME_ID runs", now_ns(CLOCK_PROCESS_CPUTIME_ID) > 0);

    /* Sleeping: nanosleep, poll with no fds, usleep. */
    long long t0 = now_ns(CLOCK_MONOTONIC);
    struct timespec nap = {0, 20 * 1000 * 1000};
    CHECK_OK("nanosleep(20 ms)", nanosleep(&nap, NULL));
    long long t1 = now_ns(CLOCK_MONOTONIC);
    CHECK("nanosleep slept 20 ms", t1 - t0 >= 20000000LL && t1 - t0 < 5000000000LL);
    check_long("poll(no fds, 20 ms)", poll(NULL, 0, 20), 0);
    long long t2 = now_ns(CLOCK_MONOTONIC);
    CHECK("poll slept 20 ms", t2 - t1 >= 20000000LL);
    CHECK_OK("usleep(10 ms)", usleep(10000));
    CHECK("usleep slept 10 ms", now_ns(CLOCK_MONOTONIC) - t2 >= 10000000LL);
    CHECK_OK("sched_yield", sched_yield());

    /* poll on stdin: the host wrote "abc" and closed the pipe. */
    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    check_long("poll(stdin, POLLIN)", poll(&pfd, 1, 10000), 1);
    CHECK("stdin POLLIN", pfd.revents & POLLIN);
    char buf[64];
    ssize_t n = read(0, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    check_str("read(stdin)", buf, "abc");
    check_long("read(stdin) at end", read(0, buf, sizeof buf), 0);
    CHECK_ERRNO("lseek(stdin pipe)", lseek(0, 0, SEEK_CUR), ESPIPE);
    CHECK("isatty(stdout) is 0 on a pipe", !isatty(1));

    /* Randomness. */
    unsigned char a[16] = {0}, b[16] = {0};
    CHECK_OK("getentropy(a)", getentropy(a, sizeof a));
    CHECK_OK("getentropy(b)", getentropy(b, sizeof b));
    CHECK("two draws differ", memcmp(a, b, sizeof a) != 0);

    /* Bad descriptors. */
    CHECK_ERRNO("read(99)", read(99, buf, 1), EBADF);
    CHECK_ERRNO("close(99)", close(99), EBADF);

    fprintf(stderr, "to stderr\n");
    fflush(stdout);
    if (failures)
        finish("posix_proc");
    printf("posix_proc: %d checks ok\n", checks);
    return status;
}
