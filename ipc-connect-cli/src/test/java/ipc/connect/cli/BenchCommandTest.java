package ipc.connect.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ipc.connect.IpcChannelFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's main job, small: {@code bench} runs its server and client processes and prints the table with every
 * row filled in, then leaves no file behind.
 */
class BenchCommandTest {
    private static final String NUMBER = "[\\d,.]+";
    private static final String SMALL = NUMBER + " ms; " + NUMBER + " \\S+ each; " + NUMBER + " / " + NUMBER + " / "
            + NUMBER + " / " + NUMBER + " \\S+";
    private static final String PIPELINED = NUMBER + " ms; " + NUMBER + " requests/s \\(batches " + NUMBER + "-"
            + NUMBER + "\\)";
    private static final String IDLE = samplesCell(50);
    /** 2,000 requests make 40 spaced ones (a fiftieth). */
    private static final String SPACED = samplesCell(40);
    private static final String STREAM = NUMBER + " ms; " + NUMBER + " GB/s \\(floor " + NUMBER + " \\S+ " + NUMBER
            + " GB/s\\)";

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void printsEveryRowOfTheTableAndLeavesNoFiles() throws Exception {
        Run bench = Run.bench("--requests", "2000", "--bytes", "100000000");
        String output = bench.output;
        assertRow(output, "2,000 small requests, handler on a virtual thread", SMALL, SMALL);
        assertRow(output, "2,000 small requests, handler inline \\(`IpcServer.DIRECT`\\)", SMALL, SMALL);
        assertRow(output, "Floor, without Ipc.Connect: 2,000 round trips of two threads of one process through shared"
                + " memory, spinning \\(just before the inline row\\)", SMALL, "");
        assertRow(output, "2,000 small requests, `sendAsync`, 256 in flight \\(inline handler\\), futures completed on"
                + " virtual threads; median of 5 batches", PIPELINED, "\\(no equivalent\\)");
        assertRow(output, "2,000 small requests, `sendAsync`, 256 in flight \\(inline handler\\), futures completed"
                + " directly \\(`Runnable::run`\\); median of 5 batches", PIPELINED, "\\(no equivalent\\)");
        assertRow(output, "The same without Ipc.Connect: 2,000 requests pipelined as in the row above \\(256 in"
                + " flight, a `CompletableFuture` each, completed directly\\), from a thread of one process to another"
                + " through two bare rings in memory: no lock, no fence, no wake \\(just before the `sendAsync`"
                + " rows\\); median of 5 batches", PIPELINED, "");
        assertRow(output, "40 small requests 0.2 ms apart \\(a client calling now and then\\), handler on a virtual"
                + " thread", SPACED, SPACED);
        assertRow(output, "40 small requests 0.2 ms apart, handler inline", SPACED, SPACED);
        assertRow(output, "First request after 20 ms idle \\(both sides asleep\\), handler on a virtual thread", IDLE,
                IDLE);
        assertRow(output, "First request after 20 ms idle \\(both sides asleep\\), handler inline", IDLE, IDLE);
        assertRow(output, "Floor, without Ipc.Connect: a thread of one process wakes another, asleep 20 ms in the"
                + " kernel \\(`LockSupport.unpark`\\), and spins until it answers through shared memory \\(just before"
                + " the rows after idle\\)", IDLE, "");
        assertRow(output, "Send 0.1 GB client\\S+server", STREAM, STREAM);
        assertRow(output, "Retrieve 0.1 GB server\\S+client", STREAM, STREAM);
        assertRow(output, "Send 0.1 GB client\\S+server, zero-copy API", STREAM, STREAM);
        assertRow(output, "Retrieve 0.1 GB server\\S+client, zero-copy API", STREAM, STREAM);
        bench.assertNoFilesLeft();
    }

    /**
     * The README's other tables: {@code bench --connections}, one row per connection count, all requests answered; then
     * the fairness table, one row per transport.
     */
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void printsARowForEachConnectionCountThenTheFairnessRowsAndLeavesNoFiles() throws Exception {
        Run bench = Run.bench("--connections", "--requests", "640");
        for (int connections : new int[] {1, 2, 4, 8, 16, 32, 64}) {
            // 640 requests shared by the clients: every one answered, with a time, a rate and two latencies
            Pattern row = Pattern.compile("(?m)^\\| " + connections + " \\| 640 \\| " + NUMBER + " \\| " + NUMBER
                    + " \\| " + NUMBER + " \\| " + NUMBER + " \\|$");
            assertTrue(row.matcher(bench.output).find(),
                    () -> "no row for " + connections + " connections with 640 requests:\n" + bench.output);
        }
        // the occasional caller beside two busy ones, over both transports: its 20 calls (640 / 1,000, at least 20)
        // timed, and the busy clients' rate
        for (String transport : List.of("Ipc\\.Connect \\(handlers on virtual threads\\)", "Unix domain socket")) {
            Pattern row = Pattern.compile("(?m)^\\| " + transport + " \\| 20 \\| " + NUMBER + " \\| " + NUMBER
                    + " \\| " + NUMBER + " \\| " + NUMBER + " \\| " + NUMBER + " \\|$");
            assertTrue(row.matcher(bench.output).find(), () -> "no fairness row for " + transport + ":\n"
                    + bench.output);
        }
        bench.assertNoFilesLeft();
    }

    /** One run of the {@code bench} command in a process of its own, which starts the server and client processes. */
    private record Run(long pid, String output) {
        static Run bench(String... arguments) throws Exception {
            List<String> command = new java.util.ArrayList<>(List.of(
                    ProcessHandle.current().info().command().orElseThrow(), "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench"));
            command.addAll(List.of(arguments));
            Process bench = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output;
            try {
                CompletableFuture<String> printed = CompletableFuture.supplyAsync(() -> {
                    try {
                        return new String(bench.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        return "output unreadable: " + e;
                    }
                });
                if (!bench.waitFor(3, TimeUnit.MINUTES)) {
                    fail("bench did not finish within 3 minutes; output so far: " + printed.getNow(""));
                }
                output = printed.get(30, TimeUnit.SECONDS);
            } finally {
                bench.descendants().forEach(ProcessHandle::destroyForcibly); // its server and client, if still there
                bench.destroyForcibly();
                bench.waitFor(30, TimeUnit.SECONDS);
            }
            assertEquals(0, bench.exitValue(), output);
            return new Run(bench.pid(), output);
        }

        void assertNoFilesLeft() throws IOException {
            String channel = "bench-" + pid;
            assertEquals(List.of(), files(new IpcChannelFactory().directory(), channel + "."),
                    "files left by the bench's channels");
            assertFalse(Files.exists(Path.of(System.getProperty("java.io.tmpdir"), "ipc-connect-" + channel + ".sock")),
                    "UDS socket file left");
        }
    }

    /** A cell of requests timed one at a time after a pause: their count, then p50 / p99 / max. */
    private static String samplesCell(int samples) {
        return samples + " samples; " + NUMBER + " / " + NUMBER + " / " + NUMBER + " \\S+";
    }

    private static void assertRow(String output, String title, String ipcCell, String udsCell) {
        Pattern row = Pattern.compile("(?m)^\\| " + title + " \\| " + ipcCell + " \\| " + udsCell
                + (udsCell.isEmpty() ? "\\|" : " \\|"));
        assertTrue(row.matcher(output).find(), () -> "no row '" + title + "' with its cells filled in:\n" + output);
    }

    private static List<String> files(Path directory, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(p -> p.getFileName().toString()).filter(name -> name.startsWith(prefix)).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }
}
