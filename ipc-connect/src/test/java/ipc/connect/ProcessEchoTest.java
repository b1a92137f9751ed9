package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Requests and responses of every size and shape between this JVM (client) and a server process.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ProcessEchoTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_CHUNK = new IpcChannelFactory().ringCapacity() / 8 - 16;
    private static IpcChannelFactory factory = new IpcChannelFactory();
    @RegisterExtension
    static final ServerProcess SERVER = new ServerProcess("echo");

    @Test
    void hundredThousandSequentialEchoes() throws IOException {
        try (IpcClient client = new IpcClient(factory, SERVER.channel("bytes"))) {
            for (int i = 0; i < 100_000; i++) {
                byte[] request = ("Hello World " + i).getBytes(StandardCharsets.UTF_8);
                byte[] response = client.sendAndReceive(request, TIMEOUT);
                assertArrayEquals(request, response, "echo of request " + i);
            }
            assertEquals(0, client.pendingExchanges(), "answered requests left in the connection's table");
        }
    }

    /**
     * Calls that follow one another are answered by one handler thread, which goes on from one request of its
     * connection to the next instead of a new virtual thread for each; an interrupt a handler leaves on that thread is
     * not seen by the next one. A thread polls only so long (200 µs at first) for the next call (then dozes for it,
     * except with the portable fallback signal, which has no doze), and on 2 cores a connection can run a stretch of
     * calls each slower than that (while the JVMs compile, or after a fresh connect): 0 of 200 shared a thread once,
     * though most runs share 150-199. So the calls go on until 20 have run on the thread of the call before, up to
     * 5,000; with a thread per call none ever does.
     */
    @Test
    void callsInALoopShareAHandlerThreadButNotItsInterrupt() throws IOException {
        int atMost = 5_000;
        int wanted = 20;
        String[] previous = null;
        int sameThreadAsBefore = 0;
        int calls = 0;
        try (IpcClient client = new IpcClient(factory, SERVER.channel("thread"))) {
            while (calls < atMost && (calls < 200 || sameThreadAsBefore < wanted)) {
                String[] answer = new String(client.sendAndReceive(new byte[0], TIMEOUT), StandardCharsets.UTF_8)
                        .split(" ");
                assertEquals("false", answer[1], "call " + calls + ": began interrupted");
                assertEquals(Boolean.toString(!Boolean.getBoolean("inline")), answer[2], "call " + calls + ": virtual");
                if (previous != null && previous[0].equals(answer[0])) {
                    sameThreadAsBefore++;
                }
                previous = answer;
                calls++;
            }
        }
        assertTrue(sameThreadAsBefore >= wanted, "only " + sameThreadAsBefore + " of " + calls
                + " calls ran on the thread of the one before");
    }

    /**
     * A client calling at a steady pace, each call 0.4 ms after the last answer (more than the 200 µs a handler's
     * thread polls for the next request at first), has its calls answered by one thread too, once its pace is seen.
     * With the short poll alone, 19 of 2,000 ran on the thread of the call before (its poll began late); with the
     * long one, 100 do within the first few hundred.
     */
    @Test
    void callsAtASteadyPaceShareAHandlerThread() throws IOException {
        assumeFalse(Boolean.getBoolean("inline"), "no handler thread polls");
        assertCallsShareAThread(TimeUnit.MICROSECONDS.toNanos(400), 2_000, 100, "0.4 ms");
    }

    /**
     * A client that calls after pauses long enough for both sides to sleep (20 ms) has its calls answered by one
     * thread too: the handler's thread, its poll run out, dozes in the kernel for the next request, woken by the
     * client, instead of ending (without the doze, none of 100 calls after such a pause ran on the thread of the one
     * before). Not with the portable fallback signal: its wait is a timed park, which the client's wake does not end
     * (it only moves the signal's sequence), so no thread dozes there, and no call shares a thread (19 of 20 did when
     * the server dozed with it).
     */
    @Test
    void callsAfterPausesShareADozingHandlerThread() throws IOException {
        assumeFalse(Boolean.getBoolean("inline"), "no handler thread polls");
        long pauseNanos = TimeUnit.MILLISECONDS.toNanos(20);
        if ("fallback".equals(System.getProperty("ipc.connect.signal"))) {
            int[] sameAndCalls = callsOnTheThreadBefore(pauseNanos, 20, 20);
            assertEquals(0, sameAndCalls[0], "calls 20 ms apart on the thread of the one before, with no doze");
        } else {
            assertCallsShareAThread(pauseNanos, 100, 10, "20 ms");
        }
    }

    /**
     * Calls, each {@code pauseNanos} after the last answer, until {@code wanted} have run on the handler thread of
     * the call before (at most {@code atMost} calls); fails if fewer did.
     */
    private static void assertCallsShareAThread(long pauseNanos, int atMost, int wanted, String pause)
            throws IOException {
        int[] sameAndCalls = callsOnTheThreadBefore(pauseNanos, atMost, wanted);
        assertTrue(sameAndCalls[0] >= wanted, "only " + sameAndCalls[0] + " of " + sameAndCalls[1]
                + " calls " + pause + " apart ran on the thread of the one before");
    }

    /** {@link HandlerThreads#callsOnTheThreadBefore} on a new client of the server's {@code thread} channel. */
    private static int[] callsOnTheThreadBefore(long pauseNanos, int atMost, int wanted) throws IOException {
        try (IpcClient client = new IpcClient(factory, SERVER.channel("thread"))) {
            return HandlerThreads.callsOnTheThreadBefore(client, pauseNanos, atMost, wanted);
        }
    }

    /**
     * A handler's thread that took the next request of its connection in place of the dispatcher, and is held up by
     * it, does not hold up the requests after it: another caller's request is answered at once.
     */
    @Test
    void aSlowRequestTakenByTheThreadBeforeDoesNotHoldUpTheNext() throws Exception {
        try (IpcClient client = new IpcClient(factory, SERVER.channel("slow"))) {
            client.sendAndReceive("0".getBytes(StandardCharsets.UTF_8), TIMEOUT); // its thread polls for the next
            java.util.concurrent.CompletableFuture<InputStream> slow = client.sendAsync(
                    IpcData.of("5000".getBytes(StandardCharsets.UTF_8)), TIMEOUT);
            assertEquals("late 0", new String(client.sendAndReceive("0".getBytes(StandardCharsets.UTF_8),
                    Duration.ofSeconds(3)), StandardCharsets.UTF_8));
            assertTrue(!slow.isDone(), "the slow request was answered first");
            try (InputStream response = slow.get(30, TimeUnit.SECONDS)) {
                assertEquals("late 5000", new String(response.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
    }

    /**
     * A handler that reads its request by views while it writes the response on the same thread (through a writer):
     * the response's window comes back through the request ring, behind the chunks of the request. Those are not left
     * in place for its views once the response has begun, or its writes would wait for a window that never came.
     */
    @Test
    void aHandlerEchoingByViewsAsItWritesDoesNotWaitForItself() throws IOException {
        long length = 64L << 20; // many windows each way
        try (IpcClient client = new IpcClient(factory, SERVER.channel("viewecho"));
             InputStream response = client.send(Pattern.stream(length), TIMEOUT)) {
            assertEquals(length, Pattern.verify(response, new byte[64 * 1024]));
        }
    }

    /**
     * A handler that took a view of its request and answers more than a window at once: the chunk lent to its view
     * goes back when the response begins, so that the window the client returns behind it in the ring arrives.
     */
    @Test
    void aHandlerAnsweringAfterAViewDoesNotWaitForItsOwnWindow() throws IOException {
        try (IpcClient client = new IpcClient(factory, SERVER.channel("viewthenbytes"))) {
            for (int round = 0; round < 3; round++) {
                try (InputStream response = client.send(Pattern.stream(16L << 20), TIMEOUT)) {
                    assertEquals(8L << 20, Pattern.verify(response, new byte[64 * 1024]), "round " + round);
                }
            }
        }
    }

    @Test
    void tenThreadsShareOneClient() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(10);
        try (IpcClient client = new IpcClient(factory, SERVER.channel("bytes"))) {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 10; t++) {
                int thread = t;
                results.add(threads.submit(() -> {
                    for (int i = 0; i < 10_000; i++) {
                        byte[] request = ("thread " + thread + " request " + i).getBytes(StandardCharsets.UTF_8);
                        assertArrayEquals(request, client.sendAndReceive(request, TIMEOUT),
                                "thread " + thread + " request " + i);
                    }
                    return 10_000;
                }));
            }
            int total = 0;
            for (Future<Integer> result : results) {
                total += result.get(4, TimeUnit.MINUTES);
            }
            assertEquals(100_000, total);
            assertEquals(0, client.pendingExchanges(), "answered requests left in the connection's table");
        } finally {
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS));
        }
    }

    /** Sizes around the frame limit and beyond, in both directions. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, -1, 0, 1, 1 << 20, 100 << 20})
    void everySizeBothWays(int sizeOrDelta) throws IOException {
        // values -1, 0, 1 after the first two stand for one frame minus one, exactly, plus one
        for (int size : sizesFor(sizeOrDelta)) {
            byte[] payload = Pattern.bytes(0, size);
            try (IpcClient bytes = new IpcClient(factory, SERVER.channel("bytes"));
                 IpcClient generate = new IpcClient(factory, SERVER.channel("generate"));
                 IpcClient count = new IpcClient(factory, SERVER.channel("count"))) {
                assertArrayEquals(payload, bytes.sendAndReceive(payload, TIMEOUT), "bytes echo of " + size);
                try (InputStream response = generate.send(IpcData.of(Integer.toString(size)
                        .getBytes(StandardCharsets.UTF_8)), TIMEOUT)) {
                    assertEquals(size, Pattern.verify(response, new byte[8192]), "server to client " + size);
                }
                String counted = new String(count.sendAndReceive(payload, TIMEOUT), StandardCharsets.UTF_8);
                assertEquals(size + " " + Pattern.crc(size), counted, "client to server " + size);
            }
        }
    }

    private static int[] sizesFor(int value) {
        if (value == -1 || value == 1 && seenOne++ > 0 || value == 0 && seenZero++ > 0) {
            return new int[] {MAX_CHUNK + value};
        }
        return new int[] {value};
    }

    private static int seenOne;
    private static int seenZero;

    @Test
    void tenStreamedEchoesOf100MiB() throws IOException {
        try (IpcClient client = new IpcClient(factory, SERVER.channel("echo"))) {
            for (int i = 0; i < 10; i++) {
                long size = 100L << 20;
                try (InputStream response = client.send(new IpcDataStream(Pattern.stream(size)), TIMEOUT)) {
                    assertEquals(size, Pattern.verify(response, new byte[64 * 1024]), "echo " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {32L << 10, 1L << 20, 10L << 20, 100L << 20, 1L << 30})
    void streamingEchoComparedChunkByChunk(long size) throws IOException {
        try (IpcClient client = new IpcClient(factory, SERVER.channel("echo"));
             InputStream response = client.send(Pattern.stream(size), TIMEOUT)) {
            assertEquals(size, Pattern.verify(response, new byte[100_003]));
        }
    }

    @Test
    void shortReadsOfTheSourceAreNotTheEnd() throws IOException {
        long size = 3L << 20;
        Random random = new Random(7);
        InputStream pattern = Pattern.stream(size);
        InputStream trickle = new InputStream() {
            @Override
            public int read() throws IOException {
                return pattern.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(Math.min(len, 700));
                return pattern.read(b, off, Math.max(n, 1) == 0 ? 1 : Math.min(Math.max(n, 1), len));
            }

            @Override
            public int available() {
                return 0;
            }
        };
        try (IpcClient client = new IpcClient(factory, SERVER.channel("count"))) {
            String counted = new String(client.send(trickle, TIMEOUT).readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(size + " " + Pattern.crc(size), counted);
        }
    }

    /**
     * A streamed echo whose source pauses mid-way: what was sent before the pause reaches a read that waits with a
     * large array at once, on both sides (the handler reading the request, the caller reading the response), not
     * when more comes or the stream ends.
     */
    @Test
    void partOfAStreamReachesAWaitingReadBeforeTheRest() throws Exception {
        java.util.concurrent.CountDownLatch more = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch end = new java.util.concurrent.CountDownLatch(1);
        InputStream source = new InputStream() {
            private int step;

            @Override
            public int read() {
                throw new UnsupportedOperationException("read in blocks");
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    int n = switch (step++) {
                        case 0 -> 100;
                        case 1 -> {
                            more.await();
                            yield 50;
                        }
                        default -> {
                            end.await();
                            yield -1;
                        }
                    };
                    if (n > 0) {
                        java.util.Arrays.fill(b, off, off + Math.min(n, len), (byte) step);
                    }
                    return n < 0 ? n : Math.min(n, len);
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException("source interrupted");
                }
            }
        };
        Thread caller = Thread.currentThread();
        Thread releaser = null;
        try (IpcClient client = new IpcClient(factory, SERVER.channel("echo"));
             InputStream response = client.send(new IpcDataStream(source), TIMEOUT)) {
            byte[] big = new byte[1 << 20];
            assertEquals(100, readAtLeast(response, big, 100), "the bytes before the pause");
            releaser = Thread.ofPlatform().start(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (caller.getState() != Thread.State.WAITING && caller.getState() != Thread.State.TIMED_WAITING
                        && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                more.countDown(); // the caller waits in its read: the next 50 bytes go straight into its array
            });
            assertEquals(50, readAtLeast(response, big, 50), "the 50 bytes sent while the caller's read waited");
            for (int i = 0; i < 50; i++) {
                assertEquals(2, big[i], "byte " + (100 + i));
            }
            end.countDown();
            assertEquals(-1, response.read(big), "the end");
        } finally {
            more.countDown();
            end.countDown();
            if (releaser != null) {
                releaser.join(10_000);
            }
        }
    }

    /** Reads until at least {@code count} bytes came (or the end), each read with the whole array; the total. */
    private static int readAtLeast(InputStream in, byte[] into, int count) throws IOException {
        int total = 0;
        while (total < count) {
            int n = in.read(into, total, into.length - total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    @Test
    void sixteenClientProcessesAtOnce() throws Exception {
        TestProcesses.runClients(16, List.of("-Xmx64m"), "OK 2000", 180, "echo", SERVER.channel("bytes"), "2000");
    }

    @Test
    void sixtyFourConnectionsFromFourProcessesAllAnswered() throws Exception {
        TestProcesses.runClients(4, List.of("-Xmx128m"), "OK " + 16 * 300, 180, "many", SERVER.channel("bytes"), "16",
                "300");
    }

    @Test
    void tenGigabytesEachWayWithBoundedHeap() throws Exception {
        long size = 10_000_000_000L;
        for (String mode : List.of("upload", "download")) {
            Process client = TestProcesses.launch(TestClientMain.class, List.of("-Xmx256m"), mode,
                    SERVER.channel(mode.equals("upload") ? "count" : "generate"), Long.toString(size));
            try {
                TestProcesses.Result result = TestProcesses.await(client, 240);
                assertEquals(0, result.exitCode(), result.output());
                assertTrue(result.output().startsWith("OK " + size), result.output());
            } finally {
                TestProcesses.kill(client);
            }
        }
    }
}
