package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void echo() throws Exception {
        String base = TestProcesses.uniqueChannel("smoke");
        Process server = TestProcesses.startServer(base);
        try (IpcClient client = new IpcClient(new IpcChannelFactory(), base + ".bytes")) {
            byte[] hello = "Hello World".getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(hello, client.sendAndReceive(hello, Duration.ofSeconds(5)));
            long t = System.nanoTime();
            for (int i = 0; i < 100_000; i++) {
                client.sendAndReceive(hello, Duration.ofSeconds(5));
            }
            System.out.println("100k: " + (System.nanoTime() - t) / 1_000_000 + " ms");
        } finally {
            TestProcesses.stop(server);
        }
    }
}
