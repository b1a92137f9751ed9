package ipc.connect.bench.jmh;

import ipc.connect.IpcChannelFactory;
import ipc.connect.IpcClient;
import ipc.connect.IpcData;
import ipc.connect.IpcServer;
import java.io.IOException;
import java.io.InputStream;
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
 * A full round trip through the public API, server and client in one JVM (the cross-process figures come from the
 * {@code bench} command). Run with {@code -prof gc} for the allocation per request.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RoundTripBenchmark {
    private static final byte[] HELLO = "Hello World".getBytes(StandardCharsets.UTF_8);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Param({"direct", "virtual"})
    String handlers;

    private IpcServer server;
    private IpcClient client;

    @Setup
    public void setUp() throws IOException {
        IpcChannelFactory factory = new IpcChannelFactory();
        String channel = "jmh-round-trip-" + ProcessHandle.current().pid();
        server = new IpcServer(factory, handlers.equals("direct") ? IpcServer.DIRECT : null);
        server.listen(channel, request -> {
            request.skip(Long.MAX_VALUE);
            return IpcData.empty();
        });
        client = new IpcClient(factory, channel);
    }

    @TearDown
    public void tearDown() {
        client.close();
        server.close();
    }

    @Benchmark
    public int smallRequestEmptyResponse() throws IOException {
        try (InputStream response = client.send(IpcData.of(HELLO), TIMEOUT)) {
            return response.read();
        }
    }
}
