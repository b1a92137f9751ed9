package ipc.connect.cli;

import ipc.connect.bench.BenchClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Starts a server process and a client process, runs the original project's three workloads between them and
 * prints one table.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run the benchmark workloads between a server process and a client process.")
final class BenchCommand implements Callable<Integer> {
    /**
     * The heap of the bench's JVMs, committed and touched at start, as latency-minded JVMs run: the first write to each
     * fresh page of the heap faults into the kernel, which on this project's 2-core VM took ~10 µs, one small request
     * in ten (p99 11-50 µs for most of a run, until the heap had been gone over; 1.7-5.9 µs pre-touched). Both columns
     * run in these processes; the table's machine line prints these options.
     */
    private static final List<String> JVM_HEAP = List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch");

    @Option(names = "--quick", description = "A smaller run: 20,000 requests and 1 GB each way.")
    boolean quick;

    @Option(names = "--requests", description = "Small requests to time (default 100000; 20000 with --quick).")
    Integer requests;

    @Option(names = "--bytes", description = "Bytes to stream each way (default 10 GB; 1 GB with --quick).")
    Long bytes;

    @Option(names = "--connections", description = "Instead: throughput of small requests from 1 to 64 connections,"
            + " then an occasional caller's latency beside two busy ones.")
    boolean connections;

    @Override
    public Integer call() throws Exception {
        int requestCount = requests != null ? requests : quick ? 20_000 : 100_000;
        long byteCount = bytes != null ? bytes : quick ? 1_000_000_000L : 10_000_000_000L;
        String channel = "bench-" + ProcessHandle.current().pid();
        Path socket = Path.of(System.getProperty("java.io.tmpdir"), "ipc-connect-" + channel + ".sock");
        Process server = start("bench-server", "--channel", channel, "--socket", socket.toString());
        Process client = null;
        try {
            awaitLine(server, "READY");
            client = connections
                    ? start("bench-client", "--channel", channel, "--socket", socket.toString(), "--requests",
                            Integer.toString(requestCount), "--bytes", "0", "--connections")
                    : start("bench-client", "--channel", channel, "--socket", socket.toString(), "--requests",
                            Integer.toString(requestCount), "--bytes", Long.toString(byteCount));
            Map<String, long[]> results = new LinkedHashMap<>();
            BufferedReader out = reader(client);
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    String[] fields = line.substring(7).split(" ");
                    long[] values = new long[fields.length - 2];
                    for (int i = 2; i < fields.length; i++) {
                        values[i - 2] = Long.parseLong(fields[i]);
                    }
                    results.put(fields[0] + " " + fields[1], values);
                } else {
                    System.out.println(line);
                }
            }
            if (!client.waitFor(10, TimeUnit.MINUTES) || client.exitValue() != 0) {
                System.err.println("bench client failed (exit " + (client.isAlive() ? "none" : client.exitValue())
                        + ")");
                return 1;
            }
            if (connections) {
                printConnections(results);
            } else {
                printTable(results, requestCount, byteCount);
            }
            return 0;
        } finally {
            if (client != null) {
                client.destroyForcibly();
            }
            server.getOutputStream().close(); // the server stops when its input closes
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
            Files.deleteIfExists(socket);
        }
    }

    private static void printTable(Map<String, long[]> results, int requestCount, long byteCount) {
        System.out.println();
        System.out.println("Machine: " + Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", Java "
                + Runtime.version() + "; server and client in separate JVMs, each with its heap committed and"
                + " touched at start (" + String.join(" ", JVM_HEAP) + ")");
        System.out.println();
        System.out.println("| Workload | Ipc.Connect | Unix domain socket (same run) | Ipc.Connect vs UDS | Original (C#, i7) |");
        System.out.println("|---|---|---|---:|---:|");
        String requests = String.format(Locale.ROOT, "%,d", requestCount);
        smallRow(results, "small", requests + " small requests, handler on a virtual thread");
        smallRow(results, "small-direct", requests + " small requests, handler inline (`IpcServer.DIRECT`)");
        long[] pingPong = results.get("floor ping-pong");
        if (pingPong != null) {
            System.out.printf(Locale.ROOT, "| Floor, without Ipc.Connect: %s round trips of two threads of one process"
                    + " through shared memory, spinning (just before the inline row) | %s | | | |%n", requests,
                    smallCell(pingPong));
        }
        pipelinedRow(results, "pipelined", requests + " small requests, `sendAsync`, 256 in flight (inline handler),"
                + " futures completed on virtual threads; median of 5 batches");
        pipelinedRow(results, "pipelined-direct", requests + " small requests, `sendAsync`, 256 in flight (inline"
                + " handler), futures completed directly (`Runnable::run`); median of 5 batches");
        long[] bare = results.get("pipelined bare");
        if (bare != null) {
            System.out.printf(Locale.ROOT, "| The same without Ipc.Connect: %s requests pipelined as in the row"
                    + " above (256 in flight, a `CompletableFuture` each, completed directly), from a thread of one"
                    + " process to another through two bare rings in memory: no lock, no fence, no wake (just before"
                    + " the `sendAsync` rows); median of 5 batches | %s | | | |%n", requests, pipelinedCell(bare));
        }
        long[] spaced = results.get("spaced uds");
        String spacedCount = spaced == null ? "" : String.format(Locale.ROOT, "%,d", spaced[0]);
        spacedRow(results, "spaced", spacedCount + " small requests 0.2 ms apart (a client calling now and then),"
                + " handler on a virtual thread");
        spacedRow(results, "spaced-direct", spacedCount + " small requests 0.2 ms apart, handler inline");
        spacedRow(results, "idle", "First request after 20 ms idle (both sides asleep), handler on a virtual thread");
        spacedRow(results, "idle-direct", "First request after 20 ms idle (both sides asleep), handler inline");
        long[] wake = results.get("idle wake");
        if (wake != null) {
            System.out.printf(Locale.ROOT, "| Floor, without Ipc.Connect: a thread of one process wakes another, asleep"
                    + " 20 ms in the kernel (`LockSupport.unpark`), and spins until it answers through shared memory"
                    + " (just before the rows after idle) | %s | | | |%n", spacedCell(wake));
        }
        String gigabytes = String.format(Locale.ROOT, "%.1f GB", byteCount / 1e9);
        streamRow(results, "upload", "Send " + gigabytes + " client→server");
        streamRow(results, "download", "Retrieve " + gigabytes + " server→client");
        streamRow(results, "upload-zero-copy", "Send " + gigabytes + " client→server, zero-copy API", "upload");
        streamRow(results, "download-zero-copy", "Retrieve " + gigabytes + " server→client, zero-copy API",
                "download");
        System.out.println();
        System.out.println("Small requests: 11 bytes, empty response, timed one by one after a warm-up of as"
                + " many (pipelined: five times as many, then five timed batches, the median one shown); latency"
                + " p50 / p99 / p99.9 / max. Spaced and after idle: p50 / p99 / max; spaced requests each after a"
                + " 0.2 ms `parkNanos` (about 0.25 ms with the timer's slack), after as many untimed; each first"
                + " request after idle after untimed ones each after 2 ms idle, so that the paths waking both sides are"
                + " compiled, as in a process that has run a while. The UDS server answers on its connection thread."
                + " Streams: a 1 MiB block copied out of the sender's source (`IpcDataStream`; for UDS into a direct"
                + " buffer), read into the receiver's buffer. Zero-copy API: the block written by an `IpcDataWriter`"
                + " straight into the ring, read in place with `readView` (the UDS column repeats the plain rows)."
                + " Floor: the machine's speed for a stream through memory shared by two cores, without Ipc.Connect"
                + " (two threads of one process copying through a 1 MiB ring, two copies of each byte, spinning and"
                + " yielding), measured just before and just after each row; on a VM it moves with where the host"
                + " runs the cores. The round-trip floor is timed like the small requests, the wake floor like the"
                + " first requests after idle, the pipelined workload without Ipc.Connect like the `sendAsync` rows.");
    }

    private static void printConnections(Map<String, long[]> results) {
        System.out.println();
        System.out.println("Machine: " + Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("os.name") + " " + System.getProperty("os.arch") + "; one server process (handlers"
                + " on virtual threads), one client process with one thread per connection");
        System.out.println();
        System.out.println("| Connections | Requests | Time (ms) | Requests/s | p50 (µs) | p99 (µs) |");
        System.out.println("|---:|---:|---:|---:|---:|---:|");
        results.forEach((key, r) -> {
            if (key.startsWith("connections ")) {
                System.out.printf(Locale.ROOT, "| %s | %,d | %,.0f | %,.0f | %.1f | %.1f |%n", key.substring(12), r[0],
                        r[1] / 1e6, r[0] / (r[1] / 1e9), r[2] / 1e3, r[3] / 1e3);
            }
        });
        long[] ipc = results.get("occasional ipc");
        long[] uds = results.get("occasional uds");
        if (ipc == null || uds == null) {
            return;
        }
        System.out.println();
        System.out.println("Fairness: two clients call in loops (one thread each), a third calls every "
                + BenchClient.OCCASIONAL_PAUSE_NANOS / 1_000_000 + " ms; its calls timed");
        System.out.println();
        System.out.println("| Transport | Calls | p50 (µs) | p90 (µs) | p99 (µs) | Max (µs) | The loops' requests/s |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        occasionalRow("Ipc.Connect (handlers on virtual threads)", ipc);
        occasionalRow("Unix domain socket", uds);
    }

    private static void occasionalRow(String transport, long[] r) {
        System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %.1f | %,.0f |%n", transport, r[0], r[2] / 1e3,
                r[3] / 1e3, r[4] / 1e3, r[5] / 1e3, r[6] / (r[1] / 1e9));
    }

    /** A row of batches of pipelined requests: the median batch, then the slowest and fastest batch's rates. */
    private static void pipelinedRow(Map<String, long[]> results, String workload, String title) {
        long[] r = results.get(workload + " ipc");
        if (r != null) {
            System.out.printf(Locale.ROOT, "| %s | %s | (no equivalent) | | |%n", title, pipelinedCell(r));
        }
    }

    /** The median batch's time and rate, then the slowest and fastest batch's rates. */
    private static String pipelinedCell(long[] r) {
        return String.format(Locale.ROOT, "%,.0f ms; %,.0f requests/s (batches %,.0f-%,.0f)", r[1] / 1e6,
                r[0] / (r[1] / 1e9), r[0] / (r[3] / 1e9), r[0] / (r[2] / 1e9));
    }

    /** A row of requests timed one at a time after a pause: {@code workload} and its UDS baseline (no suffix). */
    private static void spacedRow(Map<String, long[]> results, String workload, String title) {
        long[] ipc = results.get(workload + " ipc");
        long[] uds = results.get(workload.replace("-direct", "") + " uds");
        if (ipc == null || uds == null) {
            return;
        }
        double ratio = (double) uds[2] / ipc[2];
        System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | |%n", title, spacedCell(ipc), spacedCell(uds),
                ratio >= 1 ? String.format(Locale.ROOT, "%.1f× faster (median)", ratio)
                        : String.format(Locale.ROOT, "%.1f× slower (median)", 1 / ratio));
    }

    private static String spacedCell(long[] r) {
        return String.format(Locale.ROOT, "%d samples; %.1f / %.1f / %.0f µs", r[0], r[2] / 1e3, r[3] / 1e3,
                r[5] / 1e3);
    }

    private static void smallRow(Map<String, long[]> results, String workload, String title) {
        long[] ipc = results.get(workload + " ipc");
        long[] uds = results.get("small uds");
        if (ipc == null || uds == null) {
            return;
        }
        System.out.printf(Locale.ROOT, "| %s | %s | %s | %.1f× faster (median) | 2,400 ms; 24 µs each |%n", title,
                smallCell(ipc), smallCell(uds), (double) uds[2] / ipc[2]);
    }

    private static String smallCell(long[] r) {
        long count = r[0];
        long nanos = r[1];
        return String.format(Locale.ROOT, "%,.0f ms; %.2f µs each; %.1f / %.1f / %.1f / %.0f µs", nanos / 1e6,
                nanos / 1e3 / count, r[2] / 1e3, r[3] / 1e3, r[4] / 1e3, r[5] / 1e3);
    }

    private static void streamRow(Map<String, long[]> results, String workload, String title) {
        streamRow(results, workload, title, workload);
    }

    private static void streamRow(Map<String, long[]> results, String workload, String title, String baseline) {
        long[] ipc = results.get(workload + " ipc");
        long[] uds = results.get(baseline + " uds");
        if (ipc == null || uds == null) {
            return;
        }
        System.out.printf(Locale.ROOT, "| %s | %s | %s | %.1f× the throughput | 1,700 ms; 5.9 GB/s |%n", title,
                streamCell(ipc), streamCell(uds), (double) uds[1] / ipc[1]);
    }

    private static String streamCell(long[] r) {
        double before = r[2] / (double) r[3];
        double after = r[2] / (double) r[4];
        return String.format(Locale.ROOT, "%,.0f ms; %.2f GB/s (floor %.1f → %.1f GB/s)", r[1] / 1e6,
                r[0] / (double) r[1], before, after);
    }

    static Process start(String command, String... args) throws IOException {
        List<String> line = new ArrayList<>();
        line.add(ProcessHandle.current().info().command().orElse("java"));
        line.add("--enable-native-access=ALL-UNNAMED");
        line.addAll(JVM_HEAP);
        line.add("-cp");
        line.add(System.getProperty("java.class.path"));
        line.add(Main.class.getName());
        line.add(command);
        line.addAll(List.of(args));
        return new ProcessBuilder(line).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static BufferedReader reader(Process process) {
        return new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    private static void awaitLine(Process process, String prefix) throws IOException {
        BufferedReader out = reader(process);
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith(prefix)) {
                return;
            }
        }
        throw new IOException("the bench server exited before it was ready");
    }
}
