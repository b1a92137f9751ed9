package ipc.connect.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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
    @Option(names = "--quick", description = "A smaller run: 20,000 requests and 1 GB each way.")
    boolean quick;

    @Option(names = "--requests", description = "Small requests to time (default 100000; 20000 with --quick).")
    Integer requests;

    @Option(names = "--bytes", description = "Bytes to stream each way (default 10 GB; 1 GB with --quick).")
    Long bytes;

    @Override
    public Integer call() throws Exception {
        int requestCount = requests != null ? requests : quick ? 20_000 : 100_000;
        long byteCount = bytes != null ? bytes : quick ? 1_000_000_000L : 10_000_000_000L;
        String channel = "bench-" + ProcessHandle.current().pid();
        Process server = start("bench-server", "--channel", channel);
        Process client = null;
        try {
            awaitLine(server, "READY");
            client = start("bench-client", "--channel", channel, "--requests", Integer.toString(requestCount),
                    "--bytes", Long.toString(byteCount));
            Map<String, String[]> results = new LinkedHashMap<>();
            BufferedReader out = reader(client);
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    String[] fields = line.substring(7).split(" ");
                    results.put(fields[0], fields);
                } else {
                    System.out.println(line);
                }
            }
            if (!client.waitFor(10, TimeUnit.MINUTES) || client.exitValue() != 0) {
                System.err.println("bench client failed (exit " + (client.isAlive() ? "none" : client.exitValue())
                        + ")");
                return 1;
            }
            printTable(results, requestCount, byteCount);
            return 0;
        } finally {
            if (client != null) {
                client.destroyForcibly();
            }
            server.getOutputStream().close(); // the server stops when its input closes
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    private static void printTable(Map<String, String[]> results, int requestCount, long byteCount) {
        System.out.println();
        System.out.println("Machine: " + Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", Java "
                + Runtime.version());
        System.out.println();
        System.out.println("| Workload | Time (ms) | Per request | p50 / p99 / p99.9 / max (µs) | Throughput | Original (C#) |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        List<String> order = new ArrayList<>(List.of("small", "small-direct", "upload", "download"));
        for (String name : order) {
            String[] r = results.get(name);
            if (r == null) {
                continue;
            }
            long nanos = Long.parseLong(r[2]);
            double ms = nanos / 1e6;
            if (name.startsWith("small")) {
                long count = Long.parseLong(r[1]);
                System.out.printf(Locale.ROOT, "| %,d small requests%s | %,.0f | %.2f µs | %s / %s / %s / %s | %,.0f req/s | 2,400 ms for 100,000 (24 µs) |%n",
                        count, name.equals("small-direct") ? " (handler inline, IpcServer.DIRECT)"
                                : " (handler on a virtual thread)", ms, nanos / 1e3 / count,
                        micros(r[3]), micros(r[4]), micros(r[5]), micros(r[6]), count / (nanos / 1e9));
            } else {
                long count = Long.parseLong(r[1]);
                System.out.printf(Locale.ROOT, "| %s %,.1f GB %s | %,.0f | | | %.2f GB/s | 1,700 ms for 10 GB (5.9 GB/s) |%n",
                        name.equals("upload") ? "Send" : "Retrieve", count / 1e9,
                        name.equals("upload") ? "client→server" : "server→client", ms, count / (double) nanos);
            }
        }
        System.out.println();
        System.out.println("(" + requestCount + " requests of 11 bytes with empty responses; " + byteCount
                + " bytes per stream; both sides in separate JVMs)");
    }

    private static String micros(String nanos) {
        return String.format(Locale.ROOT, "%.1f", Long.parseLong(nanos) / 1e3);
    }

    static Process start(String command, String... args) throws IOException {
        List<String> line = new ArrayList<>();
        line.add(ProcessHandle.current().info().command().orElse("java"));
        line.add("--enable-native-access=ALL-UNNAMED");
        line.add("-Xmx256m");
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
