package ipc.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ipc.connect.internal.connection.ChannelDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Channel files that are not what they claim, and settings that differ: refused at connect, values named. */
class CorruptFilesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static IpcException connectTo(Path directory, String channel, byte[] fileContent) throws Exception {
        Files.createDirectories(directory);
        Files.write(directory.resolve(channel + ".chan"), fileContent);
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(directory).build();
        try (IpcClient client = new IpcClient(factory, channel)) {
            return assertThrows(IpcException.class, () -> client.send(IpcData.empty(), TIMEOUT));
        }
    }

    private static ByteBuffer header(long magic, int version, int length) {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.nativeOrder());
        buffer.putLong(ChannelDescriptor.MAGIC_OFFSET, magic);
        buffer.putInt(ChannelDescriptor.LAYOUT_VERSION_OFFSET, version);
        buffer.putInt(ChannelDescriptor.HEADER_LENGTH_OFFSET, ChannelDescriptor.HEADER_LENGTH);
        buffer.putInt(ChannelDescriptor.MAX_CONNECTIONS_OFFSET, 4);
        return buffer;
    }

    @Test
    void wrongMagicIsNamed(@TempDir Path folder) throws Exception {
        long magic = 0x1122334455667788L;
        IpcException e = connectTo(folder, "bad-magic", header(magic, 1, 4096).array());
        assertTrue(e.getMessage().contains("'bad-magic'") && e.getMessage().contains("not a channel file")
                && e.getMessage().contains(Long.toHexString(magic))
                && e.getMessage().contains(Long.toHexString(ChannelDescriptor.MAGIC)), e.getMessage());
    }

    @Test
    void unknownVersionIsNamedWithOurs(@TempDir Path folder) throws Exception {
        IpcException e = connectTo(folder, "bad-version", header(ChannelDescriptor.MAGIC, 7, 4096).array());
        assertTrue(e.getMessage().contains("layout version 7") && e.getMessage().contains("version "
                + ChannelDescriptor.LAYOUT_VERSION), e.getMessage());
    }

    @Test
    void truncatedFileIsNamedWithItsSize(@TempDir Path folder) throws Exception {
        IpcException e = connectTo(folder, "short", new byte[100]);
        assertTrue(e.getMessage().contains("100 bytes") && e.getMessage().contains("header"), e.getMessage());
    }

    @Test
    void aDifferentRequestLimitIsRefusedWithBothValues() throws Exception {
        String base = TestProcesses.uniqueChannel("limits");
        Process server = TestProcesses.startServer(base, Integer.toString(IpcChannelFactory.DEFAULT_RING_CAPACITY),
                "5000");
        try {
            try (IpcClient client = new IpcClient(new IpcChannelFactory(), base + ".echo")) {
                IpcException e = assertThrows(IpcException.class, () -> client.send(IpcData.empty(), TIMEOUT));
                assertTrue(e.getMessage().contains("settings differ") && e.getMessage().contains("5000 bytes")
                        && e.getMessage().contains("no limit"), e.getMessage());
            }
            IpcChannelFactory matching = IpcChannelFactory.builder().maxRequestBytes(5000).build();
            try (IpcClient client = new IpcClient(matching, base + ".bytes")) {
                assertEquals(5000, client.sendAndReceive(new byte[5000], TIMEOUT).length);
            }
        } finally {
            TestProcesses.stopAndAssertClean(server);
        }
    }

    @Test
    void aDifferentRingCapacityIsRefusedWithBothValues() throws Exception {
        String base = TestProcesses.uniqueChannel("settings");
        Process server = TestProcesses.startServer(base, "65536");
        try {
            IpcChannelFactory factory = new IpcChannelFactory();
            try (IpcClient client = new IpcClient(factory, base + ".echo")) {
                IpcException e = assertThrows(IpcException.class, () -> client.send(IpcData.empty(), TIMEOUT));
                assertTrue(e.getMessage().contains("settings differ") && e.getMessage().contains("65536")
                        && e.getMessage().contains(Integer.toString(factory.ringCapacity())), e.getMessage());
            }
            IpcChannelFactory matching = IpcChannelFactory.builder().ringCapacity(65536).build();
            try (IpcClient client = new IpcClient(matching, base + ".bytes")) {
                byte[] payload = Pattern.bytes(0, 300_000); // many frames of a small ring
                assertEquals(300_000, client.sendAndReceive(payload, TIMEOUT).length);
            }
        } finally {
            TestProcesses.stopAndAssertClean(server);
        }
        assertEquals(List.of(), ChannelFiles.of(new IpcChannelFactory(), base));
    }
}
