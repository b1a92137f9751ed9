package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The shared-memory counters and the status snapshot, against a server process. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class StatusTest {
    private final IpcChannelFactory factory = new IpcChannelFactory();

    private static IpcStatus.Channel channel(IpcStatus status, String name) {
        return status.channels().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no channel " + name + " in " + status));
    }

    @Test
    void countersTellWhatHappenedOnBothSides() throws Exception {
        String base = TestProcesses.uniqueChannel("status");
        Process server = TestProcesses.startServer(base);
        try {
            try (IpcClient bytes = new IpcClient(factory, base + ".bytes");
                 IpcClient fail = new IpcClient(factory, base + ".fail");
                 IpcClient slow = new IpcClient(factory, base + ".slow")) {
                for (int i = 0; i < 10; i++) {
                    bytes.sendAndReceive(new byte[1000], Duration.ofSeconds(10));
                }
                assertThrows(IpcRemoteException.class, () -> fail.send(IpcData.of(new byte[3]), Duration.ofSeconds(10)));
                assertThrows(IpcTimeoutException.class,
                        () -> slow.send(IpcData.of("1000".getBytes(StandardCharsets.UTF_8)), Duration.ofMillis(50)));

                IpcStatus status = IpcStatus.snapshot(factory);
                IpcStatus.Channel echo = channel(status, base + ".bytes");
                assertEquals(server.pid(), echo.serverPid());
                assertTrue(echo.serverAlive() && echo.open() && !echo.stale());
                assertEquals(1, echo.connections().size());
                IpcStatus.Connection c = echo.connections().get(0);
                assertEquals(ProcessHandle.current().pid(), c.clientPid());
                assertTrue(c.accepted() && c.clientAlive() && !c.stale());
                assertEquals(10, c.requestsSent());
                assertEquals(10, c.requestsReceived());
                assertEquals(10_000, c.requestBytesSent());
                assertEquals(10_000, c.requestBytesReceived());
                assertEquals(10_000, c.responseBytesSent());
                assertEquals(10_000, c.responseBytesReceived());
                assertEquals(0, c.timeouts() + c.failures() + c.handlerErrors());

                IpcStatus.Connection failed = channel(status, base + ".fail").connections().get(0);
                assertEquals(1, failed.failures());
                assertEquals(1, failed.handlerErrors());
                IpcStatus.Connection timedOut = channel(status, base + ".slow").connections().get(0);
                assertEquals(1, timedOut.timeouts());
            }
        } finally {
            TestProcesses.kill(server); // SIGKILL: its files stay, and show as stale
        }
        IpcStatus after = IpcStatus.snapshot(factory);
        IpcStatus.Channel dead = channel(after, base + ".bytes");
        assertTrue(dead.stale() && !dead.serverAlive(), dead::toString);
        assertEquals(List.of(), dead.connections(), "the client closed its connection and deleted its file");
        // the next connect removes what the dead server left
        for (IpcStatus.Channel channel : after.channels()) {
            if (channel.name().startsWith(base + ".")) {
                try (IpcClient probe = new IpcClient(factory, channel.name())) {
                    assertThrows(IpcConnectException.class, () -> probe.send(IpcData.empty(), Duration.ofSeconds(10)));
                }
            }
        }
        assertFalse(IpcStatus.snapshot(factory).channels().stream().anyMatch(c -> c.name().startsWith(base + ".")));
        assertEquals(List.of(), ChannelFiles.of(factory, base));
    }
}
