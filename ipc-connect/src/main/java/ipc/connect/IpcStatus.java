package ipc.connect;

import ipc.connect.internal.connection.ChannelInspector;
import ipc.connect.internal.connection.ConnectionDescriptor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A snapshot of the channels in a factory's folder, read from their shared-memory counters without taking part in
 * them: for monitoring ({@code ipc-connect stat}) and tests. Reading is racy by nature: counters move while read.
 *
 * @param channels every channel file found, by name
 */
public record IpcStatus(List<Channel> channels) {

    /**
     * One channel.
     *
     * @param problem why the file could not be read (damaged, half-written), or {@code null}
     * @param stale whether its server is gone (a file a crash left; the next listen or connect removes it)
     */
    public record Channel(String name, Path file, String problem, long serverPid, boolean serverAlive, boolean open,
                          int ringCapacity, int maxConnections, boolean stale, List<Connection> connections) {
    }

    /**
     * One connection. Client counters are kept by the client, server counters by the server.
     *
     * @param age time since it connected
     * @param stale whether its client process is gone
     */
    public record Connection(String id, Path file, String problem, long clientPid, boolean clientAlive,
                             boolean accepted, Duration age, boolean stale, long requestsSent, long requestBytesSent,
                             long responseBytesReceived, long timeouts, long failures, long requestsReceived,
                             long requestBytesReceived, long responseBytesSent, long handlerErrors) {
    }

    /** Reads every channel in the factory's folder. */
    public static IpcStatus snapshot(IpcChannelFactory factory) throws IOException {
        return snapshot(factory.directory());
    }

    /** Reads every channel in {@code directory}. */
    public static IpcStatus snapshot(Path directory) throws IOException {
        List<Channel> channels = new ArrayList<>();
        Instant now = Instant.now();
        for (ChannelInspector.ChannelView view : ChannelInspector.inspect(directory)) {
            List<Connection> connections = new ArrayList<>();
            for (ChannelInspector.ConnectionView c : view.connections()) {
                long[] client = c.clientCounters();
                long[] server = c.serverCounters();
                connections.add(new Connection(c.id(), c.file(), c.problem(), c.clientPid(), c.clientAlive(),
                        c.serverState() == ConnectionDescriptor.SERVER_ACCEPTED,
                        c.connectedAtMillis() == 0 ? Duration.ZERO
                                : Duration.between(Instant.ofEpochMilli(c.connectedAtMillis()), now),
                        c.problem() == null && !c.clientAlive(), client[0], client[1], client[2], client[3], client[4],
                        server[0], server[1], server[2], server[3]));
            }
            channels.add(new Channel(view.name(), view.file(), view.problem(), view.serverPid(), view.serverAlive(),
                    view.open(), view.ringCapacity(), view.maxConnections(),
                    view.problem() == null && !view.serverAlive(), List.copyOf(connections)));
        }
        return new IpcStatus(List.copyOf(channels));
    }
}
