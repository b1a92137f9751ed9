package ipc.connect;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Starts test processes with the same {@code java} and class path as this JVM. */
final class TestProcesses {
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private TestProcesses() {
    }

    /** The same {@code java}, class path and native access as this JVM, running {@code main}. */
    static List<String> command(Class<?> main, List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.addAll(inherited());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        return command;
    }

    /** Settings of this JVM that its child processes must share (the forced fallback signal). */
    private static List<String> inherited() {
        String signal = System.getProperty("ipc.connect.signal");
        return signal == null ? List.of() : List.of("-Dipc.connect.signal=" + signal);
    }

    /** A channel base name no other test (nor another run) uses. */
    static String uniqueChannel(String test) {
        return "t-" + test + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
    }

    /** Starts {@code main} with {@code args} and waits (at most 30 s) for it to print {@code READY}. */
    static Process start(Class<?> main, List<String> jvmOptions, String... args) throws IOException {
        return start(main, jvmOptions, ProcessBuilder.Redirect.INHERIT, args);
    }

    /** Like {@link #start(Class, List, String...)}, with the standard error sent to {@code errors}. */
    static Process start(Class<?> main, List<String> jvmOptions, ProcessBuilder.Redirect errors, String... args)
            throws IOException {
        Process process = new ProcessBuilder(command(main, jvmOptions, args)).redirectError(errors).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.equals("READY")) {
                        return line;
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        });
        try {
            if (ready.get(30, TimeUnit.SECONDS) == null) {
                kill(process);
                fail(main.getSimpleName() + " exited with " + process.waitFor() + " before it was ready");
            }
        } catch (Exception e) {
            kill(process);
            throw new IOException(main.getSimpleName() + " did not become ready: " + e, e);
        }
        return process;
    }

    static Process startServer(String base, String... extra) throws IOException {
        String[] args = new String[extra.length + 1];
        args[0] = base;
        System.arraycopy(extra, 0, args, 1, extra.length);
        return start(TestServerMain.class, List.of("-Xmx256m", "-Dinline=" + Boolean.getBoolean("inline")), args);
    }

    /** Output and exit code of a finished process. */
    record Result(int exitCode, String output) {
    }

    /** Starts {@code main} and returns what it printed once it exits; kills it after {@code timeoutSeconds}. */
    static Process launch(Class<?> main, List<String> jvmOptions, String... args) throws IOException {
        return new ProcessBuilder(command(main, jvmOptions, args)).redirectErrorStream(true).start();
    }

    static Result await(Process process, long timeoutSeconds) throws Exception {
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "output unreadable: " + e;
            }
        });
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            kill(process);
            fail("process " + process.pid() + " did not finish within " + timeoutSeconds + " s; output: "
                    + output.getNow(""));
        }
        return new Result(process.exitValue(), output.get(30, TimeUnit.SECONDS));
    }

    /** Kills a process (SIGKILL) and waits for it to be gone. */
    static void kill(Process process) {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Ends a test server: politely (its input closes) if it still runs, asserting it exits with 0; killed in any
     * case.
     */
    static void stopAndAssertClean(Process server) throws InterruptedException {
        try {
            if (server.isAlive()) {
                org.junit.jupiter.api.Assertions.assertEquals(0, stop(server), "server exit code");
            }
        } finally {
            kill(server);
        }
    }

    /** Launches client processes and checks that each exits with 0 and printed {@code expected}. */
    static void runClients(int count, List<String> jvmOptions, String expected, long timeoutSeconds, String... args)
            throws Exception {
        List<Process> clients = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                clients.add(launch(TestClientMain.class, jvmOptions, args));
            }
            for (Process client : clients) {
                Result result = await(client, timeoutSeconds);
                org.junit.jupiter.api.Assertions.assertEquals(0, result.exitCode(), result.output());
                org.junit.jupiter.api.Assertions.assertTrue(result.output().contains(expected), result.output());
            }
        } finally {
            clients.forEach(TestProcesses::kill);
        }
    }

    /** Stops a test server the polite way (its standard input closes) and waits for its exit. */
    static int stop(Process process) throws InterruptedException {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // gone already
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            kill(process);
            fail("process " + process.pid() + " did not exit within 30 s of its input closing");
        }
        return process.exitValue();
    }
}
