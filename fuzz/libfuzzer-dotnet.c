// The libFuzzer side of SharpFuzz's Fuzzer.LibFuzzer.Run: libFuzzer links this file, starts the .NET fuzz program
// once, and hands it every input through shared memory; the program's SharpFuzz-instrumented code writes its edge
// counters into the same segment, which this side copies into libFuzzer's extra counters after each run.
//
// The protocol is SharpFuzz 2.3.0's (Fuzzer.LibFuzzer.cs): one System V segment of MAP_SIZE counter bytes followed by
// DATA_SIZE input bytes, its id in __LIBFUZZER_SHM_ID; a control pipe on which this side writes each input's length
// (4 bytes), and a status pipe on which the program answers 0 (ran) or non-zero (an exception escaped), after one
// 4-byte hello at start. The pipes' descriptors are named in __LIBFUZZER_CONTROL_PIPE_ID / __LIBFUZZER_STATUS_PIPE_ID.
//
// Written for this repository (build: clang -fsanitize=fuzzer), after Metalnem/libfuzzer-dotnet, with one change:
// when the program dies instead of answering (Environment.FailFast, a stack overflow, a SIGSEGV from an unsafe read
// running into a guard page) this side traps too, so libFuzzer saves the input as a crash rather than exiting.
//
// Flags: --target_path=PROGRAM (required) and --target_arg=ARG (one argument for it); libFuzzer ignores flags that
// start with "--".

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAP_SIZE (1 << 16)
#define DATA_SIZE (1 << 20)
#define CONTROL_FD 198
#define STATUS_FD 199

// libFuzzer treats every byte of this section as an 8-bit edge counter, beside its own (the few of this file). Not
// static: nothing here reads the array, so the compiler would drop the stores into a static one.
__attribute__((section("__libfuzzer_extra_counters"), used)) uint8_t extra_counters[MAP_SIZE];

static int control_fd = -1;
static int status_fd = -1;
static int shm_id = -1;
static uint8_t *shm;
static pid_t child;

static void fail(const char *what)
{
    fprintf(stderr, "libfuzzer-dotnet: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void remove_segment(void)
{
    if (shm_id >= 0)
        shmctl(shm_id, IPC_RMID, NULL);
}

static const char *flag_value(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=' && argv[i][n + 1] != '\0')
            return argv[i] + n + 1;
    return NULL;
}

// Reads exactly 4 bytes; returns 0 at end of file (the program is gone), 1 on success.
static int read_int(int fd, int32_t *value)
{
    size_t got = 0;
    while (got < sizeof *value)
    {
        ssize_t r = read(fd, (char *)value + got, sizeof *value - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            fail("read(status pipe)");
        if (r == 0)
            return 0;
        got += (size_t)r;
    }
    return 1;
}

static void write_int(int fd, int32_t value)
{
    size_t put = 0;
    while (put < sizeof value)
    {
        ssize_t w = write(fd, (char *)&value + put, sizeof value - put);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            fail("write(control pipe)");
        put += (size_t)w;
    }
}

// The program is gone without an answer: say how, and trap so libFuzzer keeps the input that did it.
static void program_died(void)
{
    int status = 0;
    if (child > 0 && waitpid(child, &status, 0) == child)
    {
        if (WIFSIGNALED(status))
            fprintf(stderr, "libfuzzer-dotnet: the .NET program died of signal %d\n", WTERMSIG(status));
        else if (WIFEXITED(status))
            fprintf(stderr, "libfuzzer-dotnet: the .NET program exited with status %d\n", WEXITSTATUS(status));
    }
    __builtin_trap();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *path = flag_value(*argc, *argv, "--target_path");
    const char *arg = flag_value(*argc, *argv, "--target_arg");
    if (path == NULL)
    {
        fprintf(stderr, "libfuzzer-dotnet: --target_path=PROGRAM is required\n");
        exit(1);
    }

    int control[2], status[2];
    if (pipe(control) != 0 || pipe(status) != 0)
        fail("pipe");
    shm_id = shmget(IPC_PRIVATE, MAP_SIZE + DATA_SIZE, IPC_CREAT | IPC_EXCL | 0600);
    if (shm_id < 0)
        fail("shmget");
    atexit(remove_segment);
    shm = shmat(shm_id, NULL, 0);
    if (shm == (void *)-1)
        fail("shmat");

    child = fork();
    if (child < 0)
        fail("fork");
    if (child == 0)
    {
        if (dup2(control[0], CONTROL_FD) < 0 || dup2(status[1], STATUS_FD) < 0)
            fail("dup2");
        close(control[0]);
        close(control[1]);
        close(status[0]);
        close(status[1]);
        char id[16];
        snprintf(id, sizeof id, "%d", shm_id);
        setenv("__LIBFUZZER_SHM_ID", id, 1);
        setenv("__LIBFUZZER_CONTROL_PIPE_ID", "198", 1);
        setenv("__LIBFUZZER_STATUS_PIPE_ID", "199", 1);
        execl(path, path, arg, (char *)NULL);
        fail("exec of the .NET program");
    }
    close(control[0]);
    close(status[1]);
    control_fd = control[1];
    status_fd = status[0];

    int32_t hello;
    if (!read_int(status_fd, &hello))
    {
        fprintf(stderr, "libfuzzer-dotnet: the .NET program ended before it was ready\n");
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > DATA_SIZE)
    {
        fprintf(stderr, "libfuzzer-dotnet: inputs are limited to %d bytes (use -max_len)\n", DATA_SIZE);
        exit(1);
    }
    memset(shm, 0, MAP_SIZE);
    memcpy(shm + MAP_SIZE, data, size);
    write_int(control_fd, (int32_t)size);
    int32_t status;
    if (!read_int(status_fd, &status))
        program_died();
    memcpy(extra_counters, shm, MAP_SIZE);
    if (status != 0)
        __builtin_trap();
    return 0;
}
