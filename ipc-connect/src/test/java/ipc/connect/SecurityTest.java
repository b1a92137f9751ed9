package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** File modes, another user, and the server's limits. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SecurityTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private static List<String> modes(Path directory) throws Exception {
        List<String> modes = new ArrayList<>();
        modes.add("folder " + PosixFilePermissions.toString(Files.getPosixFilePermissions(directory)));
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                modes.add(name.substring(name.lastIndexOf('.') + 1) + " "
                        + PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            }
        }
        modes.sort(null);
        return modes;
    }

    private static List<String> modesWhileConnected(IpcChannelFactory factory) throws Exception {
        String channel = TestProcesses.uniqueChannel("modes");
        try (IpcServer server = new IpcServer(factory)) {
            server.listen(channel, request -> IpcData.empty());
            try (IpcClient client = new IpcClient(factory, channel)) {
                client.send(IpcData.empty(), TIMEOUT).close();
                return modes(factory.directory());
            }
        }
    }

    @Test
    void filesAreOwnerOnlyByDefault(@TempDir Path folder) throws Exception {
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(folder.resolve("shm")).build();
        assertEquals(List.of("chan rw-------", "conn rw-------", "folder rwx------", "lock rw-------"),
                modesWhileConnected(factory));
    }

    @Test
    void groupSharingIsAnOptionAndNeverReachesOthers(@TempDir Path folder) throws Exception {
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(folder.resolve("shm"))
                .shareWithGroup(true).build();
        assertEquals(List.of("chan rw-rw----", "conn rw-rw----", "folder rwxrwx---", "lock rw-rw----"),
                modesWhileConnected(factory));
    }

    @Test
    void aClientOfAnotherUserGetsAClearPermissionError() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/bin/setpriv")),
                "needs root and setpriv to run a process as another user");
        IpcChannelFactory factory = new IpcChannelFactory();
        String channel = TestProcesses.uniqueChannel("other-user");
        try (IpcServer server = new IpcServer(factory)) {
            server.listen(channel, request -> IpcData.empty());
            List<String> command = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                    "--clear-groups", ProcessHandle.current().info().command().orElseThrow(),
                    "--enable-native-access=ALL-UNNAMED", "-Xmx64m", "-Djava.io.tmpdir=/tmp",
                    "-Ddir=" + factory.directory(), "-cp", System.getProperty("java.class.path"),
                    TestClientMain.class.getName(), "expect-connect-failure", channel));
            Process other = new ProcessBuilder(command).redirectErrorStream(true).start();
            try {
                TestProcesses.Result result = TestProcesses.await(other, 60);
                assertEquals(0, result.exitCode(), result.output());
                assertTrue(result.output().contains("CONNECT FAILED") && result.output().contains("permission denied")
                        && result.output().contains("'" + channel + "'"), result.output());
            } finally {
                TestProcesses.kill(other);
            }
        }
    }

    /**
     * A full shared folder, simulated by a file size limit on the client process (ulimit -f): writing its 2 MiB
     * connection file fails, and the error says what and where, and how to choose another folder.
     */
    @Test
    void aFolderWithoutRoomGivesAClearConnectError() throws Exception {
        IpcChannelFactory factory = new IpcChannelFactory();
        String channel = TestProcesses.uniqueChannel("no-room");
        try (IpcServer server = new IpcServer(factory)) {
            server.listen(channel, request -> IpcData.empty());
            List<String> java = TestProcesses.command(TestClientMain.class, List.of("-Xmx64m"),
                    "expect-connect-failure", channel);
            String line = String.join(" ", java.stream().map(word -> "'" + word + "'").toList());
            Process limited = new ProcessBuilder("/bin/bash", "-c", "ulimit -f 512; exec " + line)
                    .redirectErrorStream(true).start();
            try {
                TestProcesses.Result result = TestProcesses.await(limited, 60);
                assertEquals(0, result.exitCode(), result.output());
                assertTrue(result.output().contains("CONNECT FAILED") && result.output().contains("'" + channel + "'")
                        && result.output().contains("full?") && result.output().contains("directory("),
                        result.output());
                assertTrue(result.output().contains("FILES LEFT 0"), "the half-written file is removed: "
                        + result.output());
            } finally {
                TestProcesses.kill(limited);
            }
            try (IpcClient client = new IpcClient(factory, channel)) {
                client.send(IpcData.empty(), TIMEOUT).close(); // others are unaffected
            }
        }
    }

    @Test
    void requestsOverTheLimitAreRefusedAndTheConnectionStaysUsable(@TempDir Path folder) throws Exception {
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(folder).maxRequestBytes(100_000).build();
        String channel = TestProcesses.uniqueChannel("limit");
        try (IpcServer server = new IpcServer(factory)) {
            server.listen(channel, request -> new IpcDataBytes(request.readAllBytes()));
            try (IpcClient client = new IpcClient(factory, channel)) {
                assertEquals(100_000, client.sendAndReceive(new byte[100_000], TIMEOUT).length);
                for (long size : new long[] {100_001, 5_000_000}) {
                    IpcException e = assertThrows(IpcException.class, () -> {
                        try (InputStream response = client.send(Pattern.stream(size), TIMEOUT)) {
                            response.readAllBytes();
                        }
                    });
                    assertInstanceOf(IpcRemoteException.class, e);
                    assertTrue(e.getMessage().contains("limit of 100000 bytes") && e.getMessage().contains("'" + channel),
                            e.getMessage());
                }
                byte[] small = "small".getBytes(StandardCharsets.UTF_8);
                assertArrayEquals(small, client.sendAndReceive(small, TIMEOUT));
                // Each request reached one handler: the frames a client sends after a refusal (the rest of its body,
                // its end) belong to the refused request, and never start another with its id, which a handler
                // would then answer (empty) before the refusal did. The server counts each request as it begins.
                IpcStatus.Connection connection = IpcStatus.snapshot(factory).channels().stream()
                        .filter(c -> c.name().equals(channel)).findFirst().orElseThrow().connections().get(0);
                assertEquals(4, connection.requestsSent());
                assertEquals(4, connection.requestsReceived(), "requests the server began");
            }
        }
    }

    /**
     * A request just within the limit is taken whole when its handler reads it in place, late and slowly: the chunks
     * the dispatcher leaves in the ring for the handler's next view count once, not each time they are looked at.
     */
    @Test
    void aRequestWithinTheLimitIsTakenWhenItsHandlerReadsLate(@TempDir Path folder) throws Exception {
        long limit = 16L << 20; // four times the window: the dispatcher leaves chunks in the ring again and again
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(folder).maxRequestBytes(limit).build();
        String channel = TestProcesses.uniqueChannel("limit-late");
        try (IpcServer server = new IpcServer(factory)) {
            server.listen(channel, request -> {
                Thread.sleep(200);
                long total = 0;
                for (java.nio.ByteBuffer view; (view = ((IpcInputStream) request).readView(4096)) != null; ) {
                    total += view.remaining();
                }
                return new IpcDataBytes(Long.toString(total).getBytes(StandardCharsets.UTF_8));
            });
            try (IpcClient client = new IpcClient(factory, channel);
                 InputStream response = client.send(Pattern.stream(limit), TIMEOUT)) {
                assertEquals(Long.toString(limit), new String(response.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
    }

    /** A client that died between claiming a slot and publishing it does not hold the slot for ever. */
    @Test
    void aSlotClaimedByADeadProcessIsFreed(@TempDir Path folder) throws Exception {
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(folder).maxConnections(1).build();
        String channel = TestProcesses.uniqueChannel("abandoned-slot");
        Process gone = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-version")
                .redirectErrorStream(true).start();
        gone.getInputStream().readAllBytes();
        gone.waitFor();
        try (IpcServer server = new IpcServer(factory); IpcClient client = new IpcClient(factory, channel)) {
            server.listen(channel, request -> IpcData.empty());
            // what a client killed right after its CAS leaves: a CLAIMED slot naming its (now dead) pid
            try (ipc.connect.internal.memory.MappedFile file = ipc.connect.internal.memory.MappedFile.open(
                    folder.resolve(channel + ".chan"))) {
                long slot = ipc.connect.internal.connection.ChannelDescriptor.slotOffset(0);
                file.segment().set(java.lang.foreign.ValueLayout.JAVA_LONG,
                        slot + ipc.connect.internal.connection.ChannelDescriptor.SLOT_CONNECTION_ID_OFFSET,
                        gone.pid() << 32 | 1);
                ipc.connect.internal.memory.SharedAccess.setIntRelease(file.segment(),
                        slot + ipc.connect.internal.connection.ChannelDescriptor.SLOT_STATE_OFFSET,
                        ipc.connect.internal.connection.ChannelDescriptor.SLOT_CLAIMED);
            }
            assertThrows(IpcConnectException.class, () -> client.send(IpcData.empty(), TIMEOUT), "the only slot");
            sendOnceASlotIsFree(client, 20);
        }
    }

    /** Retries a connect refused for want of a slot until one frees, at most {@code seconds}. */
    private static void sendOnceASlotIsFree(IpcClient client, long seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            try {
                client.send(IpcData.empty(), TIMEOUT).close();
                return;
            } catch (IpcConnectException stillTaken) {
                assertTrue(System.nanoTime() < deadline, "no slot freed within " + seconds + " s: "
                        + stillTaken.getMessage());
                Thread.sleep(10);
            }
        }
    }

    @Test
    void connectionsOverTheLimitAreRefused(@TempDir Path folder) throws Exception {
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(folder).maxConnections(2).build();
        String channel = TestProcesses.uniqueChannel("max-connections");
        try (IpcServer server = new IpcServer(factory);
             IpcClient first = new IpcClient(factory, channel);
             IpcClient second = new IpcClient(factory, channel);
             IpcClient third = new IpcClient(factory, channel)) {
            server.listen(channel, request -> IpcData.empty());
            first.send(IpcData.empty(), TIMEOUT).close();
            second.send(IpcData.empty(), TIMEOUT).close();
            IpcConnectException e = assertThrows(IpcConnectException.class, () -> third.send(IpcData.empty(), TIMEOUT));
            assertTrue(e.getMessage().contains("limit of 2 connections"), e.getMessage());
            first.close();
            sendOnceASlotIsFree(third, 10); // once the server has seen the close
        }
    }
}
