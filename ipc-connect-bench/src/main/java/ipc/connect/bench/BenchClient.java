package ipc.connect.bench;

import ipc.connect.IpcChannelFactory;
import ipc.connect.IpcClient;
import ipc.connect.IpcData;
import ipc.connect.IpcDataStream;
import ipc.connect.IpcInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The client side of the bench workloads: for each, a warm-up, then the timed run, over Ipc.Connect and over the
 * Unix domain socket baseline. Prints one line per result:
 * {@code RESULT <workload> <transport> <count> <nanos> [<p50> <p99> <p99.9> <max> in ns]}; a stream's line ends
 * instead with {@code <floor bytes> <floor nanos before> <floor nanos after>}: the machine's {@link CopyFloor}
 * measured just before and just after the timed transfer.
 */
public final class BenchClient {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final byte[] HELLO = "Hello World".getBytes(StandardCharsets.UTF_8);
    /**
     * Most bytes of the {@link CopyFloor} run before and after each timed stream (as many as the stream moves, if
     * fewer): the host may move the virtual cores within a run, and the floor with them.
     */
    private static final long FLOOR_BYTES = 2L << 30;

    private BenchClient() {
    }

    public static void run(String channel, Path socket, int requests, long bytes, PrintStream out)
            throws IOException {
        IpcChannelFactory factory = new IpcChannelFactory();
        // as many as are timed (at least 20,000): on 2 cores the compiler threads of both JVMs, still at work after
        // fewer, take the cores the two spinning threads run on
        int warmUp = Math.max(20_000, requests);
        // streams reach their steady state (C2-compiled copy loops on both sides) after 3 to 5 GB: warm up with 4
        long warmBytes = Math.min(bytes, 4_000_000_000L);
        try (IpcClient small = new IpcClient(factory, channel + ".small");
             IpcClient direct = new IpcClient(factory, channel + ".small-direct");
             IpcClient upload = new IpcClient(factory, channel + ".upload");
             IpcClient download = new IpcClient(factory, channel + ".download");
             IpcClient uploadZeroCopy = new IpcClient(factory, channel + ".upload-zero-copy");
             IpcClient downloadZeroCopy = new IpcClient(factory, channel + ".download-zero-copy");
             UdsClient uds = new UdsClient(socket)) {
            small(out, "small", "ipc", requests, warmUp, () -> ipcSmall(small));
            pingPongFloor(out, requests, warmUp);
            small(out, "small-direct", "ipc", requests, warmUp, () -> ipcSmall(direct));
            small(out, "small", "uds", requests, warmUp, uds::small);
            // pipelining reaches its steady state later: after 300,000 to 500,000 requests, both JVMs compiled
            barePipeline(out, requests, 5 * warmUp);
            pipelined(out, "pipelined", "ipc", requests, 5 * warmUp, n -> runPipelined(direct, n, null));
            pipelined(out, "pipelined-direct", "ipc", requests, 5 * warmUp,
                    n -> runPipelined(direct, n, Runnable::run));
            int spaced = Math.max(SPACED_SAMPLES_MIN, requests / 50);
            spacedRows(out, "spaced", spaced, SPACED_NANOS, spaced, SPACED_NANOS, small, direct, uds);
            int idleWarmUps = Math.max(IDLE_SAMPLES, requests / 100);
            wakeFloor(out, idleWarmUps);
            spacedRows(out, "idle", IDLE_SAMPLES, IDLE_NANOS, idleWarmUps, SHORT_IDLE_NANOS, small, direct, uds);
            stream(out, "upload", "ipc", bytes, warmBytes, n -> ipcUpload(upload, n));
            stream(out, "upload", "uds", bytes, warmBytes, uds::upload);
            stream(out, "download", "ipc", bytes, warmBytes, n -> ipcDownload(download, n));
            stream(out, "download", "uds", bytes, warmBytes, uds::download);
            stream(out, "upload-zero-copy", "ipc", bytes, warmBytes, n -> ipcUploadZeroCopy(uploadZeroCopy, n));
            stream(out, "download-zero-copy", "ipc", bytes, warmBytes,
                    n -> ipcDownloadZeroCopy(downloadZeroCopy, n));
        }
    }

    /**
     * Throughput from 1 to 64 connections: {@code total} small requests shared by N clients (one thread each) on the
     * {@code small} channel (handlers on virtual threads). Prints
     * {@code RESULT connections <n> <total> <nanos> <p50> <p99>}; then the {@link #occasional} caller beside two busy
     * clients, over Ipc.Connect and over the UDS baseline at {@code socket}.
     */
    public static void scaling(String channel, Path socket, int total, PrintStream out) throws Exception {
        IpcChannelFactory factory = new IpcChannelFactory();
        // both JVMs compiled first, as for the other workloads (as many requests as are timed): with only each row's
        // own short warm-up, the first row timed the compilers
        try (IpcClient client = new IpcClient(factory, channel + ".small")) {
            runAll(List.of(client), total, null);
        }
        for (int connections : new int[] {1, 2, 4, 8, 16, 32, 64}) {
            List<IpcClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < connections; i++) {
                    IpcClient client = new IpcClient(factory, channel + ".small");
                    ipcSmall(client); // connected and warm
                    clients.add(client);
                }
                int each = Math.max(1, total / connections);
                runAll(clients, Math.min(each, 2_000), null); // warm-up
                Histogram histogram = new Histogram(3_600_000_000_000L, 3);
                long start = System.nanoTime();
                runAll(clients, each, histogram);
                long nanos = System.nanoTime() - start;
                out.println("RESULT connections " + connections + " " + (long) each * connections + " " + nanos + " "
                        + histogram.getValueAtPercentile(50) + " " + histogram.getValueAtPercentile(99));
                out.flush();
            } finally {
                clients.forEach(IpcClient::close);
            }
        }
        int samples = Math.clamp(total / 1_000, OCCASIONAL_SAMPLES_MIN, OCCASIONAL_SAMPLES);
        try (IpcClient first = new IpcClient(factory, channel + ".small");
             IpcClient second = new IpcClient(factory, channel + ".small");
             IpcClient occasional = new IpcClient(factory, channel + ".small")) {
            occasional(out, "ipc", List.of(() -> ipcSmall(first), () -> ipcSmall(second)), () -> ipcSmall(occasional),
                    samples);
        }
        try (UdsClient first = new UdsClient(socket);
             UdsClient second = new UdsClient(socket);
             UdsClient occasional = new UdsClient(socket)) {
            occasional(out, "uds", List.of(first::small, second::small), occasional::small, samples);
        }
    }

    /** The occasional caller's calls timed beside the busy clients: at most this many, at least the next. */
    static final int OCCASIONAL_SAMPLES = 100;
    static final int OCCASIONAL_SAMPLES_MIN = 20;
    /** The occasional caller's pause before each call. */
    public static final long OCCASIONAL_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /**
     * Fairness: while each of {@code loops} calls in a loop on a thread of its own (busy clients, which keep both
     * sides' threads spinning and polling), another caller calls once every {@value #OCCASIONAL_PAUSE_NANOS} ns;
     * its {@code samples} calls are timed (after one untimed). Prints {@code RESULT occasional <transport> <samples>
     * <nanos> <p50> <p90> <p99> <max> <loop calls meanwhile>}.
     */
    private static void occasional(PrintStream out, String transport, List<Call> loops, Call occasional,
            int samples) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong loopCalls = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        Histogram histogram = new Histogram(3_600_000_000_000L, 3);
        long nanos;
        long loopCallsTimed;
        try {
            for (Call loop : loops) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        while (!stop.get()) {
                            loop.run();
                            loopCalls.incrementAndGet();
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }));
            }
            occasional.run();
            long loopCallsBefore = loopCalls.get();
            long start = System.nanoTime();
            for (int i = 0; i < samples && failure.get() == null; i++) {
                pause(OCCASIONAL_PAUSE_NANOS);
                long t0 = System.nanoTime();
                occasional.run();
                histogram.recordValue(System.nanoTime() - t0);
            }
            nanos = System.nanoTime() - start;
            loopCallsTimed = loopCalls.get() - loopCallsBefore; // not the calls made while the loops stop
        } finally {
            stop.set(true);
            for (Thread thread : threads) {
                thread.join();
            }
        }
        if (failure.get() != null) {
            throw new IOException("a busy client failed", failure.get());
        }
        out.println("RESULT occasional " + transport + " " + samples + " " + nanos + " "
                + histogram.getValueAtPercentile(50) + " " + histogram.getValueAtPercentile(90) + " "
                + histogram.getValueAtPercentile(99) + " " + histogram.getMaxValue() + " " + loopCallsTimed);
        out.flush();
    }

    private static void runAll(List<IpcClient> clients, int each, Histogram histogram) throws Exception {
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (IpcClient client : clients) {
            threads.add(Thread.ofPlatform().start(() -> {
                Histogram own = histogram == null ? null : new Histogram(3_600_000_000_000L, 3);
                try {
                    for (int i = 0; i < each; i++) {
                        long t0 = System.nanoTime();
                        ipcSmall(client);
                        if (own != null) {
                            own.recordValue(System.nanoTime() - t0);
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
                if (own != null) {
                    synchronized (histogram) {
                        histogram.add(own);
                    }
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (failure.get() != null) {
            throw new IOException("a connection failed", failure.get());
        }
    }

    private interface Call {
        void run() throws IOException;
    }

    private interface Transfer {
        long run(long bytes) throws IOException;
    }

    private static void small(PrintStream out, String workload, String transport, int requests, int warmUp, Call call)
            throws IOException {
        for (int i = 0; i < warmUp; i++) {
            call.run();
        }
        Histogram histogram = new Histogram(3_600_000_000_000L, 3);
        long start = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            long t0 = System.nanoTime();
            call.run();
            histogram.recordValue(System.nanoTime() - t0);
        }
        long nanos = System.nanoTime() - start;
        out.println("RESULT " + workload + " " + transport + " " + requests + " " + nanos + " "
                + histogram.getValueAtPercentile(50) + " " + histogram.getValueAtPercentile(99) + " "
                + histogram.getValueAtPercentile(99.9) + " " + histogram.getMaxValue());
        out.flush();
    }

    /** The machine's {@link PingPongFloor}, timed as the small requests are, just before the inline row. */
    private static void pingPongFloor(PrintStream out, int requests, int warmUp) throws IOException {
        try (PingPongFloor floor = PingPongFloor.spinning()) {
            small(out, "floor", "ping-pong", requests, warmUp, floor::roundTrip);
        } catch (InterruptedException e) {
            throw interrupted("ping-pong floor");
        }
    }

    /**
     * The machine's floor for the first request after idle ({@link PingPongFloor#waking()}), timed as those requests
     * are, just before their rows: prints {@code RESULT idle wake ...} as {@link #spaced} does.
     */
    private static void wakeFloor(PrintStream out, int warmUps) throws IOException {
        try (PingPongFloor floor = PingPongFloor.waking()) {
            spaced(out, "idle", "wake", IDLE_SAMPLES, IDLE_NANOS, warmUps, SHORT_IDLE_NANOS, floor::roundTrip);
        } catch (InterruptedException e) {
            throw interrupted("wake floor");
        }
    }

    /**
     * Timed batches of the pipelined workloads. One batch of 100,000 lasts 40-120 ms, and on 2 cores its rate is
     * bimodal: in a probe of this workload alone (completed directly), batches after the same warm-up ran at 0.4-2.8
     * million requests/s, the median of ten or twelve at 1.4-2.5 as the host placed the cores, the slow ones with the
     * client's reader busy beside its caller and the dispatcher. So a single batch told little.
     */
    static final int PIPELINED_BATCHES = 5;

    /**
     * A pipelined workload ({@code run} sends its given count of requests with up to {@value #IN_FLIGHT} in flight,
     * and returns once all are answered): {@code warmUp} requests, then {@value #PIPELINED_BATCHES} timed batches of
     * {@code requests}. Prints {@code RESULT <workload> <transport> <requests> <median> <fastest> <slowest>}, in
     * nanoseconds a batch.
     */
    private static void pipelined(PrintStream out, String workload, String transport, int requests, int warmUp,
                                  Batch run) throws IOException {
        run.send(warmUp);
        long[] nanos = new long[PIPELINED_BATCHES];
        for (int batch = 0; batch < nanos.length; batch++) {
            long start = System.nanoTime();
            run.send(requests);
            nanos[batch] = System.nanoTime() - start;
        }
        Arrays.sort(nanos);
        out.println("RESULT " + workload + " " + transport + " " + requests + " " + nanos[nanos.length / 2] + " "
                + nanos[0] + " " + nanos[nanos.length - 1]);
        out.flush();
    }

    /** Sends a count of requests pipelined, and returns once all are answered. */
    @FunctionalInterface
    private interface Batch {
        void send(int requests) throws IOException;
    }

    /**
     * The pipelined workload without Ipc.Connect ({@link BarePipeline}), timed as the pipelined requests are, just
     * before their rows: prints {@code RESULT pipelined bare ...}.
     */
    private static void barePipeline(PrintStream out, int requests, int warmUp) throws IOException {
        try (BarePipeline bare = new BarePipeline(IN_FLIGHT, HELLO)) {
            pipelined(out, "pipelined", "bare", requests, warmUp, bare::run);
        } catch (InterruptedException e) {
            throw interrupted("pipelined workload without Ipc.Connect");
        }
    }

    /** After idle: both sides idle long enough to sleep in the kernel, then one request timed, this many times. */
    static final int IDLE_SAMPLES = 50;
    static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /**
     * The untimed requests before those come each after this pause: long enough for both sides to sleep too (a
     * handler's virtual thread polls 200 µs for its connection's next request, 1 ms while the client calls faster,
     * then dozes in the kernel; callers spin up to 1 ms after a wake), so the paths that wake them are compiled, as
     * in a process that has run a while, not interpreted.
     */
    static final long SHORT_IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    /** Spaced requests, a client calling now and then: the pause before each. */
    static final long SPACED_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    static final int SPACED_SAMPLES_MIN = 20;

    /**
     * {@link #spaced} for a handler on a virtual thread ({@code small}), an inline one ({@code direct}, the workload
     * suffixed {@code -direct}) and UDS, alike.
     */
    private static void spacedRows(PrintStream out, String workload, int samples, long pauseNanos, int warmUps,
            long warmUpPauseNanos, IpcClient small, IpcClient direct, UdsClient uds) throws IOException {
        spaced(out, workload, "ipc", samples, pauseNanos, warmUps, warmUpPauseNanos, () -> ipcSmall(small));
        spaced(out, workload + "-direct", "ipc", samples, pauseNanos, warmUps, warmUpPauseNanos,
                () -> ipcSmall(direct));
        spaced(out, workload, "uds", samples, pauseNanos, warmUps, warmUpPauseNanos, uds::small);
    }

    /**
     * Times {@code samples} requests, each after a pause of {@code pauseNanos}, after {@code warmUps} untimed ones
     * each after {@code warmUpPauseNanos}. Prints {@code RESULT <workload> <transport> <samples> <nanos> <p50> <p99>
     * <p99.9> <max>}.
     */
    private static void spaced(PrintStream out, String workload, String transport, int samples, long pauseNanos,
            int warmUps, long warmUpPauseNanos, Call call) throws IOException {
        for (int i = 0; i < warmUps; i++) {
            pause(warmUpPauseNanos);
            call.run();
        }
        Histogram histogram = new Histogram(3_600_000_000_000L, 3);
        long total = 0;
        for (int i = 0; i < samples; i++) {
            pause(pauseNanos);
            long t0 = System.nanoTime();
            call.run();
            long nanos = System.nanoTime() - t0;
            histogram.recordValue(nanos);
            total += nanos;
        }
        out.println("RESULT " + workload + " " + transport + " " + samples + " " + total + " "
                + histogram.getValueAtPercentile(50) + " " + histogram.getValueAtPercentile(99) + " "
                + histogram.getValueAtPercentile(99.9) + " " + histogram.getMaxValue());
        out.flush();
    }

    /** Parks this thread for {@code nanos} (a timer sleep: on Linux about 50 µs more, the timer slack). */
    private static void pause(long nanos) throws InterruptedIOException {
        long deadline = System.nanoTime() + nanos;
        for (long left = nanos; left > 0; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                throw interrupted("pause between requests");
            }
        }
    }

    static final int IN_FLIGHT = 256;

    /**
     * {@code sendAsync} of {@code requests} with up to {@value #IN_FLIGHT} in flight on one client, its futures
     * completed on {@code completions} ({@code null}: the default virtual threads).
     */
    private static void runPipelined(IpcClient client, int requests, Executor completions) throws IOException {
        Semaphore window = new Semaphore(IN_FLIGHT);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try {
            for (int i = 0; i < requests && failure.get() == null; i++) {
                window.acquire();
                (completions == null ? client.sendAsync(IpcData.of(HELLO), TIMEOUT)
                        : client.sendAsync(IpcData.of(HELLO), TIMEOUT, completions)).whenComplete((response, error) -> {
                    if (error != null) {
                        failure.compareAndSet(null, error);
                    } else {
                        try {
                            response.close();
                        } catch (IOException e) {
                            failure.compareAndSet(null, e);
                        }
                    }
                    window.release();
                });
            }
            window.acquire(IN_FLIGHT);
        } catch (InterruptedException e) {
            throw interrupted("pipelined requests");
        }
        if (failure.get() != null) {
            throw new IOException("pipelined request failed", failure.get());
        }
    }

    private static void stream(PrintStream out, String workload, String transport, long bytes, long warmBytes,
                               Transfer transfer) throws IOException {
        transfer.run(warmBytes);
        long floorBytes = CopyFloor.roundToChunks(Math.min(FLOOR_BYTES, bytes));
        long floorBefore = copyFloor(floorBytes);
        long start = System.nanoTime();
        long moved = transfer.run(bytes);
        long nanos = System.nanoTime() - start;
        long floorAfter = copyFloor(floorBytes);
        if (moved != bytes) {
            throw new IOException(workload + " over " + transport + ": moved " + moved + " bytes of " + bytes);
        }
        out.println("RESULT " + workload + " " + transport + " " + bytes + " " + nanos + " " + floorBytes + " "
                + floorBefore + " " + floorAfter);
        out.flush();
    }

    /** The nanoseconds {@link CopyFloor} takes for {@code length} bytes. */
    private static long copyFloor(long length) throws IOException {
        try {
            return CopyFloor.run(length);
        } catch (InterruptedException e) {
            throw interrupted("copy floor");
        }
    }

    /** Keeps the interrupt for the caller and says what was interrupted, as the workloads' {@code IOException}. */
    private static InterruptedIOException interrupted(String what) {
        Thread.currentThread().interrupt();
        return new InterruptedIOException(what + " interrupted");
    }

    private static void ipcSmall(IpcClient client) throws IOException {
        try (InputStream response = client.send(IpcData.of(HELLO), TIMEOUT)) {
            if (response.read() != -1) {
                throw new IOException("expected an empty response");
            }
        }
    }

    private static long ipcUpload(IpcClient client, long length) throws IOException {
        try (InputStream response = client.send(new IpcDataStream(BenchServer.repeat(length)), TIMEOUT)) {
            return Long.parseLong(new String(response.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static long ipcDownload(IpcClient client, long length) throws IOException {
        byte[] buffer = new byte[1 << 20];
        long total = 0;
        try (InputStream response = client.send(IpcData.of(Long.toString(length).getBytes(StandardCharsets.UTF_8)),
                TIMEOUT)) {
            int n;
            while ((n = response.read(buffer)) >= 0) {
                total += n;
            }
        }
        return total;
    }

    private static long ipcUploadZeroCopy(IpcClient client, long length) throws IOException {
        try (InputStream response = client.send(IpcData.writer(out -> BenchServer.writeRepeated(out, length)),
                TIMEOUT)) {
            return Long.parseLong(new String(response.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static long ipcDownloadZeroCopy(IpcClient client, long length) throws IOException {
        long total = 0;
        try (IpcInputStream response = client.send(IpcData.of(Long.toString(length)
                .getBytes(StandardCharsets.UTF_8)), TIMEOUT)) {
            ByteBuffer view;
            while ((view = response.readView(1 << 20)) != null) {
                total += view.remaining();
            }
        }
        return total;
    }

    /** The baseline client: blocking {@link SocketChannel}, direct buffers. */
    private static final class UdsClient implements AutoCloseable {
        private final SocketChannel channel;
        private final ByteBuffer header = ByteBuffer.allocateDirect(9 + HELLO.length);
        private final ByteBuffer answer = ByteBuffer.allocateDirect(8);
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(UdsServer.BUFFER);

        UdsClient(Path socket) throws IOException {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
        }

        void small() throws IOException {
            header.clear();
            header.put(UdsServer.SMALL).putLong(HELLO.length).put(HELLO).flip();
            UdsServer.writeFully(channel, header);
            answer.clear();
            if (!UdsServer.readFully(channel, answer) || answer.getLong(0) != 0) {
                throw new IOException("expected an empty response");
            }
        }

        long upload(long length) throws IOException {
            header.clear();
            header.put(UdsServer.UPLOAD).putLong(length).flip();
            UdsServer.writeFully(channel, header);
            for (long left = length; left > 0; ) {
                // the same one copy from the source as the Ipc.Connect side pays
                buffer.clear().put(BenchServer.BLOCK, 0, (int) Math.min(buffer.capacity(), left)).flip();
                left -= buffer.remaining();
                UdsServer.writeFully(channel, buffer);
            }
            answer.clear();
            UdsServer.readFully(channel, answer);
            return answer.getLong(0);
        }

        long download(long length) throws IOException {
            header.clear();
            header.put(UdsServer.DOWNLOAD).putLong(length).flip();
            UdsServer.writeFully(channel, header);
            answer.clear();
            UdsServer.readFully(channel, answer);
            long total = 0;
            for (long left = answer.getLong(0); left > 0; ) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), left));
                int n = channel.read(buffer);
                if (n < 0) {
                    break;
                }
                left -= n;
                total += n;
            }
            return total;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
