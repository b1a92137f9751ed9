package ipc.connect.internal.connection;

import ipc.connect.internal.memory.SharedDirectory;
import ipc.connect.internal.ring.RingDescriptor;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings shared by a server and its clients. The ring capacity must match on both sides (checked at connect);
 * the directory must too, or they would not find each other.
 *
 * @param directory folder of the channel and connection files
 * @param ringCapacity data bytes of each of a connection's two rings (a power of two)
 * @param maxConnections most connections a server accepts on one channel
 * @param spinCount idle polls a poller spins before yielding
 * @param yieldCount idle polls a poller yields before sleeping in the kernel
 * @param groupAccess whether files are created for the owner's group too (0660) rather than the owner only (0600)
 * @param maxRequestBytes largest request body a server accepts
 * @param handlerDozeNanos how long a server's handler thread, idle, dozes for its connection's next request (0: not
 *     at all; see {@code ServerConnection.doze}); the server's own, not checked against the clients'
 */
public record ChannelSettings(Path directory, int ringCapacity, int maxConnections, int spinCount, int yieldCount,
                              boolean groupAccess, long maxRequestBytes, long handlerDozeNanos) {
    public ChannelSettings {
        Objects.requireNonNull(directory, "directory");
        RingDescriptor.checkCapacity(ringCapacity);
        if (maxConnections < 1 || maxConnections > ChannelDescriptor.MAX_CONNECTIONS_LIMIT) {
            throw new IllegalArgumentException("maxConnections out of range [1, "
                    + ChannelDescriptor.MAX_CONNECTIONS_LIMIT + "]: " + maxConnections);
        }
        if (spinCount < 0) {
            throw new IllegalArgumentException("spinCount < 0: " + spinCount);
        }
        if (yieldCount < 0) {
            throw new IllegalArgumentException("yieldCount < 0: " + yieldCount);
        }
        if (maxRequestBytes < 0) {
            throw new IllegalArgumentException("maxRequestBytes < 0: " + maxRequestBytes);
        }
        if (handlerDozeNanos < 0) {
            throw new IllegalArgumentException("handlerDoze < 0: " + handlerDozeNanos + " ns");
        }
    }

    /** Largest chunk one frame carries. */
    public int maxChunk() {
        return RingDescriptor.maxPayloadLength(ringCapacity) - FrameDescriptor.HEADER_LENGTH;
    }

    /**
     * The flow-control window of one body: the chunk bytes a sender may have in flight before the receiver returns
     * credit, and so the most the receiving buffer of one exchange holds (it grows that large only while its
     * consumer lags). Four ring capacities (capped at 1 GiB): with only one, every credit round trip stalled the
     * sender and 10 GB downloads ran at 1.8-7.5 GB/s from run to run; with four, 6.4-11 GB/s. Equal on both sides,
     * since the ring capacity is.
     */
    public int window() {
        return (int) Math.min(4L * ringCapacity, 1 << 30);
    }

    public SharedDirectory sharedDirectory() {
        return new SharedDirectory(directory, groupAccess);
    }
}
