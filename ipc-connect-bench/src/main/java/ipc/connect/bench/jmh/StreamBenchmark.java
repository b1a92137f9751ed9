package ipc.connect.bench.jmh;

import ipc.connect.IpcChannelFactory;
import ipc.connect.IpcClient;
import ipc.connect.IpcData;
import ipc.connect.IpcDataStream;
import ipc.connect.IpcInputStream;
import ipc.connect.IpcServer;
import ipc.connect.bench.BenchServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A 256 MiB body each way through the public API, server and client in one JVM, so {@code -prof gc} counts the
 * allocation of both sides: {@code gc.alloc.rate.norm} divided by {@value #BYTES} is the allocation per transferred
 * byte. {@code api=stream}: an {@code IpcDataStream} source read into a reused array; {@code api=zero-copy}: an
 * {@code IpcDataWriter} and {@code readView}. The bytes come from {@link BenchServer}'s block, as in {@code bench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx256m"})
public class StreamBenchmark {
    static final long BYTES = 256L << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Param({"stream", "zero-copy"})
    String api;

    private IpcServer server;
    private IpcClient upload;
    private IpcClient download;
    private final byte[] readBuffer = new byte[1 << 20];

    @Setup
    public void setUp() throws IOException {
        IpcChannelFactory factory = new IpcChannelFactory();
        String channel = "jmh-stream-" + ProcessHandle.current().pid();
        server = new IpcServer(factory);
        byte[] serverBuffer = new byte[1 << 20];
        server.listen(channel + ".upload", request -> {
            long total = drain((IpcInputStream) request, serverBuffer);
            return IpcData.of(Long.toString(total).getBytes(StandardCharsets.UTF_8));
        });
        server.listen(channel + ".download", request -> {
            request.skip(Long.MAX_VALUE);
            return body();
        });
        upload = new IpcClient(factory, channel + ".upload");
        download = new IpcClient(factory, channel + ".download");
    }

    @TearDown
    public void tearDown() {
        upload.close();
        download.close();
        server.close();
    }

    private IpcData body() {
        return api.equals("zero-copy") ? IpcData.writer(out -> BenchServer.writeRepeated(out, BYTES))
                : new IpcDataStream(BenchServer.repeat(BYTES));
    }

    private long drain(IpcInputStream in, byte[] buffer) throws IOException {
        long total = 0;
        if (api.equals("zero-copy")) {
            ByteBuffer view;
            while ((view = in.readView(buffer.length)) != null) {
                total += view.remaining();
            }
            return total;
        }
        int n;
        while ((n = in.read(buffer)) >= 0) {
            total += n;
        }
        return total;
    }

    @Benchmark
    public long clientToServer() throws IOException {
        try (InputStream response = upload.send(body(), TIMEOUT)) {
            return Long.parseLong(new String(response.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Benchmark
    public long serverToClient() throws IOException {
        try (IpcInputStream response = download.send(IpcData.empty(), TIMEOUT)) {
            return drain(response, readBuffer);
        }
    }
}
