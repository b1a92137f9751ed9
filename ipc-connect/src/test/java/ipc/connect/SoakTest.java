package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 8 client processes send checksummed random bodies of 0 to 4 MiB to one server process and check every answer.
 * Runs {@code ipc.soak.seconds} (30 by default; 300 with {@code -Psoak}). Client heaps are capped at 96 MiB, the
 * server's at 256 MiB: a leak fails them. Afterwards the server holds no connection and no file is left.
 */
class SoakTest {
    private static final long SECONDS = Long.getLong("ipc.soak.seconds", 30);

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void eightClientsRandomSizesChecksummedNothingLostOrCorrupted() throws Exception {
        IpcChannelFactory factory = new IpcChannelFactory();
        String base = TestProcesses.uniqueChannel("soak");
        Process server = TestProcesses.startServer(base);
        List<Process> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                clients.add(TestProcesses.launch(TestClientMain.class, List.of("-Xmx96m"), "soak", base + ".soak",
                        Long.toString(SECONDS)));
            }
            long requests = 0;
            long bytes = 0;
            for (Process client : clients) {
                TestProcesses.Result result = TestProcesses.await(client, SECONDS + 240);
                assertEquals(0, result.exitCode(), result.output());
                String[] words = result.output().strip().split(" ");
                assertEquals("OK", words[0], result.output());
                requests += Long.parseLong(words[1]);
                bytes += Long.parseLong(words[3]);
            }
            assertTrue(requests > 8, "requests: " + requests);
            System.out.printf("soak: %d s, 8 clients, %,d requests, %,d bytes, all checked%n", SECONDS, requests,
                    bytes);
            try (IpcClient admin = new IpcClient(factory, base + ".connections")) {
                String open = "";
                for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); System.nanoTime() < deadline; ) {
                    open = new String(admin.sendAndReceive("soak".getBytes(StandardCharsets.UTF_8),
                            Duration.ofSeconds(10)), StandardCharsets.UTF_8);
                    if (open.equals("0")) {
                        break;
                    }
                    Thread.sleep(10);
                }
                assertEquals("0", open, "connections left on the server");
            }
            assertEquals(List.of(), ChannelFiles.connections(factory, base + ".soak"));
        } finally {
            clients.forEach(TestProcesses::kill);
            TestProcesses.stopAndAssertClean(server);
        }
        assertEquals(List.of(), ChannelFiles.of(factory, base));
    }
}
