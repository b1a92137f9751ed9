package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Close semantics within one JVM (server and client in the test process, so its threads and files can be
 * inspected directly).
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class LifecycleTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Test
    void closeIsIdempotentAndLeavesNoThreadsNorFiles(@TempDir Path folder) throws Exception {
        Path directory = folder.resolve("shm");
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(directory).build();
        String channel = TestProcesses.uniqueChannel("lifecycle");
        IpcServer server = new IpcServer(factory);
        server.listen(channel, request -> new IpcDataBytes(request.readAllBytes()));
        IpcClient client = new IpcClient(factory, channel);
        byte[] hello = "hello".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(hello, client.sendAndReceive(hello, TIMEOUT));
        assertEquals(3, Files.list(directory).count(), "channel, lock and connection file");
        assertTrue(Files.getPosixFilePermissions(directory).toString().equals("[OWNER_READ, OWNER_WRITE, OWNER_EXECUTE]"),
                "folder is owner-only");

        client.close();
        client.close();
        assertThrows(IpcClosedException.class, () -> client.send(IpcData.empty(), TIMEOUT));
        server.close();
        server.close();
        assertThrows(IllegalStateException.class, () -> server.listen(channel + "2", r -> IpcData.empty()));

        assertTrue(Files.notExists(directory), "the emptied folder is removed");
        for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); System.nanoTime() < deadline; ) {
            if (ipcThreads().isEmpty()) {
                break;
            }
            Thread.sleep(10);
        }
        assertEquals(List.of(), ipcThreads());
    }

    /**
     * A client closed right after its calls closes at once: its reader, which stays parked off the cores while
     * callers poll for their responses themselves (waking once per liveness period, 100 ms), is woken by the close
     * rather than waited for. Before, most such closes took 100 ms. The median of ten closes is compared with half the
     * liveness period, so that one slow close on a busy machine cannot fail the test.
     */
    @Test
    void aClientClosedRightAfterItsCallsDoesNotWaitForItsReader(@TempDir Path folder) throws Exception {
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(folder).build();
        String channel = TestProcesses.uniqueChannel("close-hot");
        long[] closeMillis = new long[10];
        try (IpcServer server = new IpcServer(factory)) {
            server.listen(channel, request -> new IpcDataBytes(request.readAllBytes()));
            for (int i = 0; i < closeMillis.length; i++) {
                IpcClient client = new IpcClient(factory, channel);
                for (int call = 0; call < 50; call++) {
                    client.sendAndReceive(new byte[] {(byte) call}, TIMEOUT);
                }
                long start = System.nanoTime();
                client.close();
                closeMillis[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            }
        }
        assertMedianUnder(50, closeMillis);
    }

    /**
     * A server closed while a handler's thread dozes for its connection's next request (asleep in the kernel, up to a
     * second, on the connection's mapping) closes at once, its connection unmapped: the close wakes that thread.
     * Without the wake, the close waited for the doze's end, the mapping being in use by the kernel's wait (954 ms
     * here, against 13). The median of five closes is compared with half the doze, so one slow close on a busy
     * machine cannot fail the test.
     */
    @Test
    void aServerClosedWhileAHandlerDozesClosesAtOnce(@TempDir Path folder) throws Exception {
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(folder).build();
        long[] closeMillis = new long[5];
        for (int i = 0; i < closeMillis.length; i++) {
            String channel = TestProcesses.uniqueChannel("doze-close");
            IpcServer server = new IpcServer(factory);
            try (IpcClient client = new IpcClient(factory, channel)) {
                server.listen(channel, request -> new IpcDataBytes(request.readAllBytes()));
                client.sendAndReceive(new byte[] {1}, TIMEOUT);
                Thread.sleep(50); // the handler's thread polls for the next request, then dozes
                assertTrue(mappingsUnder(folder).stream().anyMatch(line -> line.endsWith(".conn")),
                        "the connection is mapped: " + mappingsUnder(folder));
                long start = System.nanoTime();
                server.close();
                closeMillis[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            } finally {
                server.close();
            }
            assertEquals(List.of(), mappingsUnder(folder), "files still mapped once server and client closed");
        }
        assertMedianUnder(500, closeMillis);
    }

    /**
     * {@code handlerDoze(Duration.ZERO)} turns the doze off: calls 20 ms apart each run on a new handler thread (with
     * the default, they share one: {@code ProcessEchoTest.callsAfterPausesShareADozingHandlerThread}). A negative
     * doze is refused, named.
     */
    @Test
    void aHandlerDozeOfZeroTurnsTheDozeOff(@TempDir Path folder) throws Exception {
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> IpcChannelFactory.builder().handlerDoze(Duration.ofMillis(-1)));
        assertTrue(negative.getMessage().contains("PT-0.001S"), negative.getMessage());
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(folder).handlerDoze(Duration.ZERO).build();
        assertEquals(Duration.ZERO, factory.handlerDoze());
        String channel = TestProcesses.uniqueChannel("no-doze");
        int[] sameAndCalls;
        try (IpcServer server = new IpcServer(factory); IpcClient client = new IpcClient(factory, channel)) {
            server.listen(channel, request -> IpcData.of(Long.toString(Thread.currentThread().threadId())
                    .getBytes(StandardCharsets.UTF_8)));
            sameAndCalls = HandlerThreads.callsOnTheThreadBefore(client, TimeUnit.MILLISECONDS.toNanos(20), 10, 10);
        }
        assertEquals(0, sameAndCalls[0], "of " + sameAndCalls[1]
                + " calls 20 ms apart, on the thread of the one before");
    }

    /**
     * With a single carrier thread for virtual threads, no handler's thread dozes for its connection's next request:
     * it would keep that carrier, and every other virtual thread of the process would wait up to the doze's end (a
     * second). The process's own virtual thread, started after a call and a pause, runs at once.
     */
    @Test
    void noHandlerDozesOnTheOnlyCarrier(@TempDir Path folder) throws Exception {
        Process process = TestProcesses.launch(OneCarrierMain.class,
                List.of("-Djdk.virtualThreadScheduler.parallelism=1"), folder.toString(),
                TestProcesses.uniqueChannel("one-carrier"));
        try {
            TestProcesses.Result result = TestProcesses.await(process, 30);
            assertEquals(0, result.exitCode(), result.output());
            assertTrue(result.output().contains("ran true"), result.output());
        } finally {
            TestProcesses.kill(process);
        }
    }

    /** Asserts that the median of {@code closeMillis} is under {@code limitMillis}, naming them all if not. */
    private static void assertMedianUnder(long limitMillis, long[] closeMillis) {
        long[] sorted = closeMillis.clone();
        java.util.Arrays.sort(sorted);
        assertTrue(sorted[sorted.length / 2] < limitMillis, "closes took " + java.util.Arrays.toString(closeMillis)
                + " ms");
    }

    /** This process's mappings of files in {@code folder} (lines of {@code /proc/self/maps}). */
    private static List<String> mappingsUnder(Path folder) throws IOException {
        String prefix = folder.toAbsolutePath().normalize() + "/";
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(line -> line.contains(prefix)).toList();
    }

    @Test
    void secondListenOnTheSameChannelFails(@TempDir Path folder) throws Exception {
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(folder).build();
        String channel = TestProcesses.uniqueChannel("twice");
        try (IpcServer first = new IpcServer(factory); IpcServer second = new IpcServer(factory)) {
            first.listen(channel, request -> IpcData.empty());
            IpcException e = assertThrows(IpcException.class, () -> second.listen(channel, request -> IpcData.empty()));
            assertTrue(e.getMessage().contains("'" + channel + "'"), e.getMessage());
            try (IpcClient client = new IpcClient(factory, channel)) {
                assertEquals(0, client.send(IpcData.empty(), TIMEOUT).readAllBytes().length);
            }
        }
    }

    @Test
    void badChannelNamesAreRejected() {
        IpcChannelFactory factory = new IpcChannelFactory();
        for (String name : new String[] {"", "a/b", "a\\b", "..", "a..b", ".hidden", "tab\there", "x".repeat(101)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new IpcClient(factory, name), name);
            assertTrue(e.getMessage().startsWith("channel name"), e.getMessage());
        }
    }

    private static List<String> ipcThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(name -> name.startsWith("ipc-connect")).toList();
    }
}
