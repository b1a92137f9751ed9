package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The zero-copy paths between this JVM and a server process: bodies written by an {@link IpcDataWriter} straight
 * into shared memory, and bodies read in place through {@link IpcInputStream#readView}.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ZeroCopyTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final IpcChannelFactory FACTORY = new IpcChannelFactory();
    @RegisterExtension
    static final ServerProcess SERVER = new ServerProcess("zerocopy");

    /** Write sizes around the direct-write threshold, and lengths around a frame; counted by reads and by views. */
    @ParameterizedTest
    @CsvSource({"0, 1", "1, 1", "300007, 1", "3145745, 1000", "3145745, 65535", "3145745, 65536",
            "3145745, 200003", "1073741824, 1048576"})
    void writerRequestsArriveWhole(long length, int writeSize) throws IOException {
        String expected = length + " " + Pattern.crc(length);
        try (IpcClient count = new IpcClient(FACTORY, SERVER.channel("count"));
             IpcClient viewCount = new IpcClient(FACTORY, SERVER.channel("viewcount"))) {
            for (IpcClient client : new IpcClient[] {count, viewCount}) {
                try (IpcInputStream response = client.send(IpcData.writer(out -> Pattern.write(out, length,
                        writeSize)), TIMEOUT)) {
                    assertEquals(expected, new String(response.readAllBytes(), StandardCharsets.UTF_8),
                            client.channelName() + ", writes of " + writeSize);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"0, 1, 1", "1, 1, 7", "300007, 1, 100", "3145745, 1000, 65536", "3145745, 65536, 1",
            "3145745, 200003, 1000000", "1073741824, 1048576, 1048576"})
    void writerResponsesReadThroughViewsAndReads(long length, int writeSize, int maxView) throws IOException {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("write"))) {
            byte[] request = (length + " " + writeSize).getBytes(StandardCharsets.UTF_8);
            try (IpcInputStream response = client.send(IpcData.of(request), TIMEOUT)) {
                assertEquals(length, Pattern.verifyViews(response, maxView), "views of at most " + maxView);
            }
            try (IpcInputStream response = client.send(IpcData.of(request), TIMEOUT)) {
                assertEquals(length, Pattern.verify(response, new byte[Math.min(maxView, 1 << 20)]), "reads");
            }
        }
    }

    @Test
    void aRequestWriterThatThrowsFailsTheCallNamingTheChannel() throws IOException {
        String channel = SERVER.channel("count");
        try (IpcClient client = new IpcClient(FACTORY, channel)) {
            IOException thrown = assertThrows(IOException.class, () -> client.send(IpcData.writer(out -> {
                Pattern.write(out, 100_000, 4096);
                throw new IllegalStateException("no more data here");
            }), TIMEOUT).readAllBytes());
            assertTrue(thrown.getMessage().contains(channel) && thrown.getMessage().contains("no more data here"),
                    thrown.getMessage());
            Throwable root = thrown;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            assertInstanceOf(IllegalStateException.class, root, "the writer's exception is the root cause");
            assertEquals("5 " + Pattern.crc(5), new String(client.sendAndReceive(Pattern.bytes(0, 5), TIMEOUT),
                    StandardCharsets.UTF_8), "the client works on");
        }
    }

    /** An unchecked exception from a body's source fails the call at once, on either side, like an IOException. */
    @Test
    void aSourceStreamThatThrowsUncheckedFailsTheCallAtOnce() throws IOException {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("count"))) {
            InputStream failing = Pattern.failingAtEnd(300_000,
                    () -> new java.io.UncheckedIOException(new IOException("disk gone")));
            long start = System.nanoTime();
            IOException thrown = assertThrows(IOException.class, () -> client.send(failing, TIMEOUT).readAllBytes());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "failed at once, not at the timeout");
            assertTrue(thrown.getMessage().contains(SERVER.channel("count"))
                    && thrown.getMessage().contains("disk gone"), thrown.getMessage());
            assertEquals("5 " + Pattern.crc(5), new String(client.sendAndReceive(Pattern.bytes(0, 5), TIMEOUT),
                    StandardCharsets.UTF_8), "the client works on");
        }
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("write"));
             IpcInputStream response = client.send(IpcData.of("streamfail 100000".getBytes(StandardCharsets.UTF_8)), TIMEOUT)) {
            assertEquals(100_000, response.readNBytes(100_000).length);
            IpcRemoteException thrown = assertThrows(IpcRemoteException.class, response::read);
            assertEquals("source failed after 100000", thrown.remoteMessage());
        }
    }

    /** An Error from a body's writer fails the call at once, on either side, instead of at its timeout. */
    @Test
    void aWriterThatThrowsAnErrorFailsTheCallAtOnce() throws IOException {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("count"))) {
            long start = System.nanoTime();
            IOException thrown = assertThrows(IOException.class, () -> client.send(IpcData.writer(out -> {
                throw new AssertionError("request writer broke");
            }), TIMEOUT).readAllBytes());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "failed at once, not at the timeout");
            assertTrue(thrown.getMessage().contains("request writer broke"), thrown.getMessage());
        }
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("write"))) {
            IpcRemoteException thrown = assertThrows(IpcRemoteException.class,
                    () -> client.sendAndReceive("error".getBytes(StandardCharsets.UTF_8), TIMEOUT));
            assertEquals(AssertionError.class.getName(), thrown.remoteClassName());
            assertEquals("writer broke", thrown.remoteMessage());
        }
    }

    @Test
    void aResponseWriterThatThrowsReachesTheClientAfterItsBytes() throws IOException {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("write"));
             IpcInputStream response = client.send(IpcData.of("fail 200000".getBytes(StandardCharsets.UTF_8)),
                     TIMEOUT)) {
            byte[] written = response.readNBytes(200_000);
            assertEquals(new String(Pattern.bytes(0, 200_000), StandardCharsets.ISO_8859_1),
                    new String(written, StandardCharsets.ISO_8859_1), "the bytes written before the failure");
            IpcRemoteException thrown = assertThrows(IpcRemoteException.class, response::read);
            assertEquals(IllegalStateException.class.getName(), thrown.remoteClassName());
            assertEquals("writer failed after 200000", thrown.remoteMessage());
        }
    }

    @Test
    void aServerThatStopsReadingStopsTheRequestWriter() throws Exception {
        java.util.concurrent.CountDownLatch writerDone = new java.util.concurrent.CountDownLatch(1);
        AtomicReference<IOException> seen = new AtomicReference<>();
        AtomicLong written = new AtomicLong();
        long endless = 1L << 40;
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("early"))) {
            byte[] response = client.send(IpcData.writer(out -> {
                byte[] block = Pattern.bytes(0, 1 << 16);
                try {
                    while (written.get() < endless) {
                        out.write(block);
                        written.addAndGet(block.length);
                    }
                } catch (IOException e) {
                    seen.set(e);
                    throw e;
                } finally {
                    writerDone.countDown();
                }
            }), TIMEOUT).readAllBytes();
            assertEquals("early", new String(response, StandardCharsets.UTF_8));
            // the response may come before the writer hears of the stop
            assertTrue(writerDone.await(20, TimeUnit.SECONDS), "the writer returned");
        }
        assertInstanceOf(IpcClosedException.class, seen.get(), "the writer was told to stop");
        assertTrue(written.get() < endless, "stopped after " + written.get() + " bytes");
    }

    @Test
    void aClientThatClosesTheResponseEarlyStopsTheResponseWriter() throws Exception {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("write"));
             IpcClient failures = new IpcClient(FACTORY, SERVER.channel("lastfailure"))) {
            try (IpcInputStream response = client.send(IpcData.of(("" + (1L << 40) + " 65536")
                    .getBytes(StandardCharsets.UTF_8)), TIMEOUT)) {
                assertEquals(1 << 20, Pattern.verify(new java.io.ByteArrayInputStream(response.readNBytes(1 << 20)),
                        new byte[4096]));
            }
            String lastFailure = "";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!lastFailure.startsWith(IpcClosedException.class.getName()) && System.nanoTime() < deadline) {
                Thread.sleep(20);
                lastFailure = new String(failures.sendAndReceive(new byte[0], TIMEOUT), StandardCharsets.UTF_8);
            }
            assertTrue(lastFailure.startsWith(IpcClosedException.class.getName()), "the writer met: " + lastFailure);
            assertTrue(lastFailure.contains(SERVER.channel("write")), lastFailure);
            byte[] small = client.sendAndReceive("10 3".getBytes(StandardCharsets.UTF_8), TIMEOUT);
            assertEquals(new String(Pattern.bytes(0, 10), StandardCharsets.ISO_8859_1),
                    new String(small, StandardCharsets.ISO_8859_1), "the connection serves the next request");
        }
    }

    @Test
    void theBodyStreamRefusesWritesOnceTheWriterReturned() throws IOException {
        AtomicReference<OutputStream> leaked = new AtomicReference<>();
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("count"))) {
            byte[] response = client.send(IpcData.writer(out -> {
                out.write(Pattern.bytes(0, 3));
                leaked.set(out);
            }), TIMEOUT).readAllBytes();
            assertEquals("3 " + Pattern.crc(3), new String(response, StandardCharsets.UTF_8));
        }
        IOException thrown = assertThrows(IOException.class, () -> leaked.get().write(1));
        assertTrue(thrown.getMessage().contains("the writer has returned"), thrown.getMessage());
    }

    /**
     * A response alone on its connection is viewed in place: views of the ring's shared memory, with no copy. While
     * this thread holds such a view, a send of the same client from another thread waits for its next read, and one
     * from this thread fails at once, naming the channel, rather than wait for itself until its timeout.
     */
    @Test
    void aResponseAloneIsViewedInPlaceAndHoldsTheConnectionUntilReadOn() throws Exception {
        String channel = SERVER.channel("write");
        long length = 8L << 20;
        try (IpcClient client = new IpcClient(FACTORY, channel);
             IpcInputStream response = client.send(IpcData.of((length + " 1048576")
                     .getBytes(StandardCharsets.UTF_8)), TIMEOUT)) {
            long[] position = {0};
            ByteBuffer held = nextViewInPlace(response, position);
            IpcException nested = assertThrows(IpcException.class, () -> client.sendAndReceive(
                    "10 3".getBytes(StandardCharsets.UTF_8), TIMEOUT));
            assertTrue(nested.getMessage().contains(channel) && nested.getMessage().contains("readView"),
                    nested.getMessage());
            CompletableFuture<byte[]> other = new CompletableFuture<>();
            Thread sender = Thread.ofPlatform().start(() -> {
                try {
                    other.complete(client.sendAndReceive("10 3".getBytes(StandardCharsets.UTF_8), TIMEOUT));
                } catch (Throwable e) {
                    other.completeExceptionally(e);
                }
            });
            try {
                Thread.sleep(200);
                assertFalse(other.isDone(), "the other response waits behind the record this thread holds");
                assertEquals(-1, held.mismatch(ByteBuffer.wrap(Pattern.bytes(position[0] - held.remaining(),
                        held.remaining()))), "the held view is intact: the server wrote on, around it");
                int views = 0;
                ByteBuffer view;
                while ((view = response.readView(1 << 20)) != null) {
                    checkView(view, position);
                    views++;
                }
                assertEquals(length, position[0]);
                assertTrue(views > 0);
                assertArrayEquals(Pattern.bytes(0, 10), other.get(10, TimeUnit.SECONDS), "answered once read on");
            } finally {
                sender.join(10_000);
            }
            assertArrayEquals(Pattern.bytes(0, 10), client.sendAndReceive("10 3".getBytes(StandardCharsets.UTF_8),
                    TIMEOUT), "after the end, this thread sends again");
        }
    }

    /**
     * A handler reading a request alone on its connection by views reads it in place: views of shared memory, the
     * bytes intact; a request sent beside another one on the same connection is viewed in the receive buffer.
     */
    @Test
    void aHandlerViewsARequestAloneInPlace() throws Exception {
        long length = 16L << 20;
        String expected = length + " " + Pattern.crc(length);
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("viewkinds"))) {
            String[] alone;
            try (InputStream response = client.send(IpcData.writer(out -> Pattern.write(out, length, 1 << 20)),
                    TIMEOUT)) {
                alone = new String(response.readAllBytes(), StandardCharsets.UTF_8).split(" ");
            }
            assertEquals(expected, alone[0] + " " + alone[1]);
            assertTrue(Integer.parseInt(alone[2]) > 0, "views in place: " + String.join(" ", alone));
            List<CompletableFuture<InputStream>> both = List.of(
                    client.sendAsync(IpcData.writer(out -> Pattern.write(out, length, 1 << 20)), TIMEOUT),
                    client.sendAsync(IpcData.writer(out -> Pattern.write(out, length, 1 << 20)), TIMEOUT));
            int heapViews = 0;
            for (CompletableFuture<InputStream> future : both) {
                try (InputStream response = future.get(30, TimeUnit.SECONDS)) {
                    String[] words = new String(response.readAllBytes(), StandardCharsets.UTF_8).split(" ");
                    assertEquals(expected, words[0] + " " + words[1], "two at once");
                    heapViews += Integer.parseInt(words[3]);
                }
            }
            assertTrue(heapViews > 0, "views of the receive buffer while both requests were in flight");
        }
    }

    /**
     * A handler holding a view of its request in place counts as polling the connection until it gives the view back:
     * nobody else can read the connection's requests meanwhile, so the client's writes need not wake the dispatcher.
     */
    @Test
    void aHandlerHoldingAViewInPlaceCountsAsPollingTheConnection() throws Exception {
        String channel = SERVER.channel("viewhold");
        int frame = 128 << 10;
        try (IpcClient client = new IpcClient(FACTORY, channel); Arena arena = Arena.ofConfined()) {
            assertEquals("0 false", new String(client.sendAndReceive(new byte[0], TIMEOUT), StandardCharsets.UTF_8));
            MemorySegment header = ChannelFiles.connectionHeader(FACTORY, channel, arena);
            String answer = "";
            for (int attempt = 0; attempt < 5 && !answer.endsWith("true"); attempt++) {
                byte[] chunk = new byte[frame];
                ByteBuffer.wrap(chunk).putLong(0, 1_500); // the handler holds its first view in place this long
                CountDownLatch written = new CountDownLatch(1);
                CompletableFuture<InputStream> call = client.sendAsync(IpcData.writer(out -> {
                    out.write(chunk); // read from the receive buffer: its handler begins to read by views
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        throw new java.io.InterruptedIOException("interrupted");
                    }
                    for (int i = 0; i < 4; i++) {
                        out.write(chunk); // in place: the first is held, the others wait behind it in the ring
                    }
                    written.countDown();
                }), TIMEOUT);
                assertTrue(written.await(30, TimeUnit.SECONDS), "the body was written");
                Thread.sleep(200);
                for (int sample = 0; sample < 30 && !call.isDone(); sample++) {
                    assertEquals(1, ChannelFiles.serverPollers(header), "sample " + sample + " while the view is held");
                    Thread.sleep(10);
                }
                try (InputStream response = call.get(30, TimeUnit.SECONDS)) {
                    answer = new String(response.readAllBytes(), StandardCharsets.UTF_8);
                }
                assertTrue(answer.startsWith(5 * frame + " "), answer);
            }
            assertEquals(5 * frame + " true", answer, "a view was held in place");
            assertEquals(0, ChannelFiles.serverPollersOnceZero(header, Duration.ofSeconds(10)),
                    "the view given back, the count is too");
        }
    }

    /** Closing a response while a view of it is held in place gives the connection back. */
    @Test
    void closingAResponseViewedInPlaceFreesTheConnection() throws Exception {
        try (IpcClient client = new IpcClient(FACTORY, SERVER.channel("write"))) {
            for (int round = 0; round < 3; round++) {
                try (IpcInputStream response = client.send(IpcData.of(((64L << 20) + " 1048576")
                        .getBytes(StandardCharsets.UTF_8)), TIMEOUT)) {
                    nextViewInPlace(response, new long[1]);
                }
                assertArrayEquals(Pattern.bytes(0, 10), client.sendAndReceive("10 3".getBytes(StandardCharsets.UTF_8),
                        TIMEOUT), "round " + round);
            }
        }
    }

    /** Reads views (checking their bytes) until one is of shared memory, and returns it. */
    private static ByteBuffer nextViewInPlace(IpcInputStream response, long[] position) throws IOException {
        ByteBuffer view;
        while ((view = response.readView(1 << 20)) != null) {
            checkView(view, position);
            if (view.isDirect()) {
                return view;
            }
        }
        throw new AssertionError("no view in place in " + position[0] + " bytes");
    }

    private static void checkView(ByteBuffer view, long[] position) {
        byte[] expected = Pattern.bytes(position[0], view.remaining());
        assertEquals(-1, view.mismatch(ByteBuffer.wrap(expected)), "bytes from " + position[0]);
        position[0] += view.remaining();
    }
}
