package ipc.connect.cli;

import ipc.connect.IpcChannelFactory;
import ipc.connect.IpcClient;
import ipc.connect.IpcData;
import ipc.connect.IpcDataStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The client side of {@code bench}: prints {@code RESULT <name> <count> <nanos> [p50 p99 p99.9 max]} lines. */
@Command(name = "bench-client", hidden = true)
final class BenchClientCommand implements Callable<Integer> {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Option(names = "--channel", required = true)
    String channel;

    @Option(names = "--requests", required = true)
    int requests;

    @Option(names = "--bytes", required = true)
    long bytes;

    @Override
    public Integer call() throws Exception {
        IpcChannelFactory factory = new IpcChannelFactory();
        small(factory, "small");
        small(factory, "small-direct");
        try (IpcClient client = new IpcClient(factory, channel + ".upload")) {
            upload(client, Math.min(bytes, 1_000_000_000L)); // warm-up
            long start = System.nanoTime();
            long counted = upload(client, bytes);
            long nanos = System.nanoTime() - start;
            if (counted != bytes) {
                throw new IOException("server counted " + counted + " bytes, sent " + bytes);
            }
            System.out.println("RESULT upload " + bytes + " " + nanos);
        }
        try (IpcClient client = new IpcClient(factory, channel + ".download")) {
            download(client, Math.min(bytes, 1_000_000_000L));
            long start = System.nanoTime();
            long received = download(client, bytes);
            long nanos = System.nanoTime() - start;
            if (received != bytes) {
                throw new IOException("received " + received + " bytes, expected " + bytes);
            }
            System.out.println("RESULT download " + bytes + " " + nanos);
        }
        return 0;
    }

    private void small(IpcChannelFactory factory, String name) throws IOException {
        byte[] hello = "Hello World".getBytes(StandardCharsets.UTF_8);
        Histogram histogram = new Histogram(3_600_000_000_000L, 3);
        try (IpcClient client = new IpcClient(factory, channel + "." + name)) {
            for (int i = 0; i < Math.max(20_000, requests / 2); i++) { // warm-up
                roundTrip(client, hello);
            }
            long start = System.nanoTime();
            for (int i = 0; i < requests; i++) {
                long t0 = System.nanoTime();
                roundTrip(client, hello);
                histogram.recordValue(System.nanoTime() - t0);
            }
            long nanos = System.nanoTime() - start;
            System.out.println("RESULT " + name + " " + requests + " " + nanos + " "
                    + histogram.getValueAtPercentile(50) + " " + histogram.getValueAtPercentile(99) + " "
                    + histogram.getValueAtPercentile(99.9) + " " + histogram.getMaxValue());
        }
    }

    private static void roundTrip(IpcClient client, byte[] request) throws IOException {
        try (InputStream response = client.send(IpcData.of(request), TIMEOUT)) {
            if (response.read() != -1) {
                throw new IOException("expected an empty response");
            }
        }
    }

    private static long upload(IpcClient client, long length) throws IOException {
        try (InputStream response = client.send(new IpcDataStream(BenchServerCommand.repeat(length)), TIMEOUT)) {
            return Long.parseLong(new String(response.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static long download(IpcClient client, long length) throws IOException {
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
}
