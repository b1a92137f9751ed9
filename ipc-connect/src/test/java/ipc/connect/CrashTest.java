package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A peer killed with SIGKILL: the other side fails fast with {@link IpcClosedException}, frees what the dead one
 * held, and carries on. Detection is by the poller's liveness check (every 100 ms); the assertions bound it far
 * below the calls' timeouts, and the measured times are printed.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class CrashTest {
    /** Calls here would time out only after this; a failure well before it is a detection. */
    private static final Duration LONG = Duration.ofSeconds(60);
    private static final long DETECTED_WITHIN_MS = 5_000;
    private final IpcChannelFactory factory = new IpcChannelFactory();
    private String base;
    private Process server;
    private Process client;

    @BeforeEach
    void startServer() throws IOException {
        base = TestProcesses.uniqueChannel("crash");
        server = TestProcesses.startServer(base);
    }

    @AfterEach
    void cleanUp() throws Exception {
        TestProcesses.kill(client);
        TestProcesses.stopAndAssertClean(server);
        // a killed server leaves its files; the next listen or connect reclaims them
        if (!ChannelFiles.of(factory, base).isEmpty()) {
            try (IpcClient probe = new IpcClient(factory, base + ".echo")) {
                assertThrows(IpcConnectException.class, () -> probe.send(IpcData.empty(), LONG));
            }
            for (Path file : ChannelFiles.of(factory, base)) {
                String name = file.getFileName().toString();
                if (!name.startsWith(base + ".echo.")) {
                    Files.deleteIfExists(file); // other channels of the dead server: reclaimed by a listen below
                }
            }
            try (IpcServer reclaim = new IpcServer(factory)) {
                for (String behaviour : List.of("bytes", "count", "generate", "fail", "slow", "early",
                        "connections", "lastfailure")) {
                    reclaim.listen(base + "." + behaviour, request -> IpcData.empty());
                }
            }
        }
        assertEquals(List.of(), ChannelFiles.of(factory, base));
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static <T> CompletableFuture<T> async(IoCall<T> call) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return call.call();
            } catch (IOException | InterruptedException e) {
                throw new CompletionException(e);
            }
        });
    }

    private interface IoCall<T> {
        T call() throws IOException, InterruptedException;
    }

    private long killServerAndTime(CompletableFuture<?> pending) throws Exception {
        Thread.sleep(300); // the call is under way (the assertions do not depend on it)
        long start = System.nanoTime();
        TestProcesses.kill(server);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> pending.get(DETECTED_WITHIN_MS, TimeUnit.MILLISECONDS));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertInstanceOf(IpcClosedException.class, e.getCause(), () -> "cause: " + e.getCause());
        assertTrue(e.getCause().getMessage().contains("'" + base), e.getCause().getMessage());
        System.out.println("detected the server's death in " + millis + " ms");
        return millis;
    }

    @Test
    void serverKilledWhileIdleThenEveryCallFailsClosedUntilARestart() throws Exception {
        try (IpcClient client = new IpcClient(factory, base + ".bytes")) {
            assertArrayEquals(utf8("a"), client.sendAndReceive(utf8("a"), LONG));
            TestProcesses.kill(server);
            long start = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                assertThrows(IpcClosedException.class, () -> client.send(IpcData.of(utf8("b")), LONG));
            }
            System.out.println("idle: three calls failed in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms");
            server = TestProcesses.startServer(base); // same channel: reclaims the stale files
            assertArrayEquals(utf8("c"), client.sendAndReceive(utf8("c"), LONG), "reconnected by itself");
        }
    }

    @Test
    void serverKilledMidRequest() throws Exception {
        try (IpcClient client = new IpcClient(factory, base + ".slow")) {
            killServerAndTime(async(() -> client.sendAndReceive(utf8("60000"), LONG)));
        }
        assertNoClientThreadsLeft();
    }

    /** A client that pipelines reads the responses itself between requests: the reader still notices the death. */
    @Test
    void serverKilledWhileTheClientPipelines() throws Exception {
        try (IpcClient client = new IpcClient(factory, base + ".bytes")) {
            killServerAndTime(async(() -> {
                java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(64);
                java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                        new java.util.concurrent.atomic.AtomicReference<>();
                while (failure.get() == null) {
                    if (!window.tryAcquire(LONG.toMillis(), TimeUnit.MILLISECONDS)) {
                        throw new IOException("no answer and no failure within " + LONG);
                    }
                    client.sendAsync(IpcData.of(utf8("p")), LONG, Runnable::run).whenComplete((response, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e instanceof CompletionException ? e.getCause() : e);
                        } else {
                            try {
                                response.close();
                            } catch (IOException closing) {
                                failure.compareAndSet(null, closing);
                            }
                        }
                        window.release();
                    });
                }
                throw failure.get() instanceof IOException io ? io : new IOException(failure.get());
            }));
        }
        assertNoClientThreadsLeft();
    }

    /**
     * The reader, failing a call whose server died, runs the future's action (Runnable::run), which calls the client
     * again, while another thread of the client meets the lost connection and replaces it: that thread closes the lost
     * connection, which waits for its reader; it used to do so holding the client's lock, for which the action waited.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hang fails
    void anActionCallingItsClientWhileAnotherThreadReplacesTheLostConnectionDoesNotHang() throws Exception {
        try (IpcClient client = new IpcClient(factory, base + ".slow")) {
            CompletableFuture<Throwable> action = new CompletableFuture<>();
            CountDownLatch actionBegun = new CountDownLatch(1);
            client.sendAsync(IpcData.of(utf8("60000")), LONG, Runnable::run).whenComplete((response, e) -> {
                try {
                    actionBegun.countDown();
                    Thread.sleep(300); // on the reader: the other thread meets the lost connection meanwhile
                    client.send(IpcData.empty(), LONG).close();
                    action.complete(null);
                } catch (Throwable t) {
                    action.complete(t);
                }
            });
            Thread.sleep(300); // the call is under way
            TestProcesses.kill(server);
            CompletableFuture<Integer> other = async(() -> {
                assertTrue(actionBegun.await(20, TimeUnit.SECONDS), "the server's death fails the call");
                int failed = 0;
                while (!action.isDone()) {
                    try {
                        client.send(IpcData.empty(), LONG).close();
                    } catch (IpcException e) {
                        failed++; // no server: the lost connection, then reconnecting, fail
                    }
                }
                return failed;
            });
            Throwable outcome = action.get(20, TimeUnit.SECONDS); // hung here, with the other thread, before
            assertInstanceOf(IpcClosedException.class, outcome, () -> "the action's call: " + outcome);
            assertTrue(other.get(20, TimeUnit.SECONDS) > 0, "the other thread's calls failed too");
        }
        assertNoClientThreadsLeft();
    }

    @Test
    void serverKilledWhileTheClientStreamsItsRequest() throws Exception {
        try (IpcClient client = new IpcClient(factory, base + ".count")) {
            killServerAndTime(async(() -> client.sendAndReceive(new byte[0], LONG)
                    .length == 0 ? null : client.send(Pattern.stream(Long.MAX_VALUE), LONG).readAllBytes()));
        }
        assertNoClientThreadsLeft();
    }

    @Test
    void serverKilledWhileTheClientReadsAStreamedResponse() throws Exception {
        try (IpcClient client = new IpcClient(factory, base + ".generate")) {
            InputStream response = client.send(IpcData.of(utf8(Long.toString(Long.MAX_VALUE / 2))), LONG);
            assertEquals(4096, response.readNBytes(4096).length);
            killServerAndTime(async(() -> response.readAllBytes()));
        }
        assertNoClientThreadsLeft();
    }

    @Test
    void clientKilledMidStreamIsFreedAndOthersCarryOn() throws Exception {
        try (IpcClient other = new IpcClient(factory, base + ".bytes");
             IpcClient admin = new IpcClient(factory, base + ".connections");
             IpcClient failures = new IpcClient(factory, base + ".lastfailure")) {
            assertArrayEquals(utf8("before"), other.sendAndReceive(utf8("before"), LONG));
            client = TestProcesses.start(TestClientMain.class, List.of("-Xmx64m"), "upload-forever",
                    base + ".count");
            assertEquals("1", text(admin.sendAndReceive(utf8("count"), LONG)));
            long start = System.nanoTime();
            TestProcesses.kill(client);
            String seen = awaitText(admin, "count", "0");
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals("0", seen, "the server freed the dead client's connection");
            System.out.println("server freed the killed client's connection in " + millis + " ms");
            String failure = text(failures.sendAndReceive(new byte[0], LONG));
            assertTrue(failure.startsWith(IpcClosedException.class.getName()), failure);
            assertEquals(List.of(), ChannelFiles.connections(factory, base + ".count"), "connection file deleted");
            assertArrayEquals(utf8("after"), other.sendAndReceive(utf8("after"), LONG));
        }
    }

    @Test
    void clientKilledWhileWaitingForAResponseIsFreed() throws Exception {
        try (IpcClient admin = new IpcClient(factory, base + ".connections")) {
            client = TestProcesses.start(TestClientMain.class, List.of("-Xmx64m"), "slow-request", base + ".slow");
            assertEquals("1", awaitText(admin, "slow", "1"));
            TestProcesses.kill(client);
            assertEquals("0", awaitText(admin, "slow", "0"));
            assertEquals(List.of(), ChannelFiles.connections(factory, base + ".slow"), "connection file deleted");
        }
    }

    @Test
    void aSecondServerOnTheSameChannelIsRefused() throws Exception {
        try (IpcServer second = new IpcServer(factory)) {
            IpcException e = assertThrows(IpcException.class, () -> second.listen(base + ".echo", r -> IpcData.empty()));
            assertTrue(e.getMessage().contains("another server is listening")
                    && e.getMessage().contains("pid " + server.pid()), e.getMessage());
        }
        try (IpcClient client = new IpcClient(factory, base + ".echo")) {
            assertArrayEquals(utf8("still the first"), client.sendAndReceive(utf8("still the first"), LONG));
        }
    }

    @Test
    void staleFilesOfAKilledServerAreReclaimedByTheNextListen() throws Exception {
        try (IpcClient client = new IpcClient(factory, base + ".echo")) {
            client.sendAndReceive(utf8("x"), LONG);
        }
        TestProcesses.kill(server);
        assertTrue(Files.exists(factory.directory().resolve(base + ".echo.chan")), "a killed server leaves its file");
        server = TestProcesses.startServer(base);
        try (IpcClient client = new IpcClient(factory, base + ".echo")) {
            assertArrayEquals(utf8("fresh"), client.sendAndReceive(utf8("fresh"), LONG));
        }
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Asks the server until it answers {@code expected} (bounded: 10 s); returns the last answer. */
    private static String awaitText(IpcClient admin, String request, String expected) throws Exception {
        String seen = "";
        for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); System.nanoTime() < deadline; ) {
            seen = text(admin.sendAndReceive(utf8(request), LONG));
            if (seen.equals(expected)) {
                break;
            }
            Thread.sleep(10);
        }
        return seen;
    }

    private static void assertNoClientThreadsLeft() throws Exception {
        List<String> left = List.of();
        for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); System.nanoTime() < deadline; ) {
            left = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                    .filter(name -> name.startsWith("ipc-connect-client") || name.startsWith("ipc-connect-request"))
                    .toList();
            if (left.isEmpty()) {
                break;
            }
            Thread.sleep(10);
        }
        assertEquals(List.of(), left, "threads still running after close");
    }
}
