package ipc.connect.internal.connection;

import static ipc.connect.internal.memory.SharedAccess.getIntAcquire;
import static ipc.connect.internal.memory.SharedAccess.getIntPlain;
import static ipc.connect.internal.memory.SharedAccess.getLongAcquire;
import static ipc.connect.internal.memory.SharedAccess.getLongPlain;

import ipc.connect.internal.memory.MappedFile;
import ipc.connect.internal.memory.SharedDirectory;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the channel and connection files of a folder without taking part in them: for monitoring. Files that are
 * damaged, half-written or vanish while being read are reported as such, never thrown.
 */
public final class ChannelInspector {
    private ChannelInspector() {
    }

    /** What one channel file says. */
    public record ChannelView(String name, Path file, String problem, long serverPid, boolean serverAlive,
                              boolean open, int ringCapacity, int maxConnections, List<ConnectionView> connections) {
    }

    /** What one connection file says; counters in the order of {@link ConnectionDescriptor}. */
    public record ConnectionView(String id, Path file, String problem, long clientPid, boolean clientAlive,
                                 int serverState, long connectedAtMillis, long[] clientCounters,
                                 long[] serverCounters) {
    }

    /** Every channel in {@code directory}, with its connections. */
    public static List<ChannelView> inspect(Path directory) throws IOException {
        SharedDirectory shared = new SharedDirectory(directory, false);
        List<ChannelView> channels = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, "*.chan")) {
            stream.forEach(files::add);
        } catch (NoSuchFileException e) {
            return channels;
        }
        files.sort(null);
        for (Path file : files) {
            String fileName = file.getFileName().toString();
            String name = fileName.substring(0, fileName.length() - ".chan".length());
            List<ConnectionView> connections = new ArrayList<>();
            for (Path connection : shared.connectionFiles(name)) {
                connections.add(connection(connection, name));
            }
            channels.add(channel(name, file, connections));
        }
        return channels;
    }

    private static ChannelView channel(String name, Path file, List<ConnectionView> connections) {
        try (MappedFile mapped = MappedFile.open(file)) {
            MemorySegment header = mapped.segment();
            int version = mapped.size() >= ChannelDescriptor.HEADER_LENGTH
                    ? getIntAcquire(header, ChannelDescriptor.LAYOUT_VERSION_OFFSET) : 0;
            ChannelDescriptor.checkHeader(name, file, mapped.size(),
                    getLongPlain(header, ChannelDescriptor.MAGIC_OFFSET), version,
                    getIntPlain(header, ChannelDescriptor.HEADER_LENGTH_OFFSET),
                    getIntPlain(header, ChannelDescriptor.MAX_CONNECTIONS_OFFSET));
            ProcessIdentity server = new ProcessIdentity(getLongPlain(header, ChannelDescriptor.SERVER_PID_OFFSET),
                    getLongPlain(header, ChannelDescriptor.SERVER_START_TIME_OFFSET));
            return new ChannelView(name, file, null, server.pid(), server.isAlive(),
                    getIntAcquire(header, ChannelDescriptor.STATE_OFFSET) == ChannelDescriptor.STATE_OPEN,
                    getIntPlain(header, ChannelDescriptor.RING_CAPACITY_OFFSET),
                    getIntPlain(header, ChannelDescriptor.MAX_CONNECTIONS_OFFSET), connections);
        } catch (IOException | RuntimeException e) {
            return new ChannelView(name, file, e.getMessage(), 0, false, false, 0, 0, connections);
        }
    }

    private static ConnectionView connection(Path file, String channel) {
        String fileName = file.getFileName().toString();
        String id = fileName.substring(channel.length() + 1, fileName.length() - ".conn".length());
        try (MappedFile mapped = MappedFile.open(file)) {
            MemorySegment header = mapped.segment();
            if (mapped.size() < ConnectionDescriptor.HEADER_LENGTH
                    || getIntAcquire(header, ConnectionDescriptor.LAYOUT_VERSION_OFFSET)
                            != ConnectionDescriptor.LAYOUT_VERSION
                    || getLongPlain(header, ConnectionDescriptor.MAGIC_OFFSET) != ConnectionDescriptor.MAGIC) {
                return new ConnectionView(id, file, "not a complete connection file (" + mapped.size() + " bytes)", 0,
                        false, 0, 0, new long[5], new long[4]);
            }
            ProcessIdentity client = new ProcessIdentity(getLongPlain(header, ConnectionDescriptor.CLIENT_PID_OFFSET),
                    getLongPlain(header, ConnectionDescriptor.CLIENT_START_TIME_OFFSET));
            long[] clientCounters = new long[5];
            for (int i = 0; i < clientCounters.length; i++) {
                clientCounters[i] = getLongAcquire(header, ConnectionDescriptor.CLIENT_REQUESTS_OFFSET + 8L * i);
            }
            long[] serverCounters = new long[4];
            for (int i = 0; i < serverCounters.length; i++) {
                serverCounters[i] = getLongAcquire(header, ConnectionDescriptor.SERVER_REQUESTS_OFFSET + 8L * i);
            }
            return new ConnectionView(id, file, null, client.pid(), client.isAlive(),
                    getIntAcquire(header, ConnectionDescriptor.SERVER_STATE_OFFSET),
                    getLongPlain(header, ConnectionDescriptor.CONNECTED_AT_OFFSET), clientCounters, serverCounters);
        } catch (IOException | RuntimeException e) {
            return new ConnectionView(id, file, e.getMessage(), 0, false, 0, 0, new long[5], new long[4]);
        }
    }
}
