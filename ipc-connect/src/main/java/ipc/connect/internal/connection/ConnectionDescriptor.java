package ipc.connect.internal.connection;

import ipc.connect.IpcException;
import ipc.connect.internal.ring.RingDescriptor;
import ipc.connect.internal.signal.SignalDescriptor;

/**
 * Layout of a connection file ({@code <channel>.<id>.conn}), created by the client.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Magic "IPCCONN1"                              |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Layout version (written last, release)        |  8
 *  +---------------------------------------------------------------+
 *  |                 Header length (offset of the request ring)    |  12
 *  +---------------------------------------------------------------+
 *  |                 Ring capacity                                 |  16
 *  +---------------------------------------------------------------+
 *  |                 Slot index in the channel file                |  20
 *  +---------------------------------------------------------------+
 *  |                 Client pid                                    |  24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Client start time (epoch ms)                  |  32
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Client state (OPEN, CLOSED)                   |  40
 *  +---------------------------------------------------------------+
 *  |                 Server state (PENDING, ACCEPTED, REFUSED,     |  44
 *  |                 CLOSED)                                       |
 *  +---------------------------------------------------------------+
 *  |                 Channel nonce (the server it connects to)     |  48
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Connected at (epoch ms)                       |  56
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 ... padding to 128 ...                        |
 *  +---------------------------------------------------------------+
 *  |                 Client counters (client writes, atomic adds): |  128
 *  |                 requests, request bytes sent, response bytes  |
 *  |                 received, timeouts, failures (5 longs)        |
 *  +---------------------------------------------------------------+
 *  |                 ... padding to 256 ...                        |
 *  +---------------------------------------------------------------+
 *  |                 Server counters (server writes, atomic adds): |  256
 *  |                 requests, request bytes received, response    |
 *  |                 bytes sent, handler errors (4 longs)          |
 *  +---------------------------------------------------------------+
 *  |                 ... padding to 320 ...                        |
 *  +---------------------------------------------------------------+
 *  |                 Server pollers: handlers reading the request  |  320
 *  |                 ring themselves (or answering a call that     |
 *  |                 came alone, or holding a request's record in  |
 *  |                 place); the client's writes skip waking the   |
 *  |                 channel's dispatcher meanwhile, unless        |
 *  |                 another of its calls is pending               |
 *  +---------------------------------------------------------------+
 *  |                 ... padding to 384 ...                        |
 *  +---------------------------------------------------------------+
 *  |                 Doorbell signal: the client reader sleeps here|  384
 *  +---------------------------------------------------------------+
 *  |                 Handler doorbell signal: a server handler's   |  512
 *  |                 thread dozes here for the next request; the   |
 *  |                 client rings it with the channel's doorbell   |
 *  +---------------------------------------------------------------+
 *  |                 Request ring (client produces, server consumes)|  640
 *  |                 RingDescriptor.ringLength(capacity) bytes     |
 *  +---------------------------------------------------------------+
 *  |                 Response ring (server produces, client        |
 *  |                 consumes)                                     |
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class ConnectionDescriptor {
    public static final long MAGIC = 0x314E4E4F43435049L; // "IPCCONN1" little-endian
    // 2: the server pollers count; 3: a handler answering a call may count as a poller (the client wakes the
    // dispatcher anyway while another call is pending), and the rings' records are published by their length;
    // 4: the handler doorbell
    public static final int LAYOUT_VERSION = 4;

    public static final int MAGIC_OFFSET = 0;
    public static final int LAYOUT_VERSION_OFFSET = 8;
    public static final int HEADER_LENGTH_OFFSET = 12;
    public static final int RING_CAPACITY_OFFSET = 16;
    public static final int SLOT_OFFSET = 20;
    public static final int CLIENT_PID_OFFSET = 24;
    public static final int CLIENT_START_TIME_OFFSET = 32;
    public static final int CLIENT_STATE_OFFSET = 40;
    public static final int SERVER_STATE_OFFSET = 44;
    public static final int CHANNEL_NONCE_OFFSET = 48;
    public static final int CONNECTED_AT_OFFSET = 56;
    /** Client counters: two cache lines of their own, apart from the server's. */
    public static final int CLIENT_REQUESTS_OFFSET = 128;
    public static final int CLIENT_REQUEST_BYTES_OFFSET = 136;
    public static final int CLIENT_RESPONSE_BYTES_OFFSET = 144;
    public static final int CLIENT_TIMEOUTS_OFFSET = 152;
    public static final int CLIENT_FAILURES_OFFSET = 160;
    /** Server counters, two cache lines away from the client's. */
    public static final int SERVER_REQUESTS_OFFSET = 256;
    public static final int SERVER_REQUEST_BYTES_OFFSET = 264;
    public static final int SERVER_RESPONSE_BYTES_OFFSET = 272;
    public static final int SERVER_ERRORS_OFFSET = 280;
    /**
     * Count of the server's threads polling the request ring for themselves (a cache line of its own): the pollers
     * word of the channel doorbell as the client's request writer sees it (see {@link
     * ipc.connect.internal.signal.Signal#startPolling()}). A thread answering a call that came alone stays counted
     * ({@code ServerConnection.pollNext}), and a handler holding a record of the request ring in place counts until
     * it gives it back ({@code ServerConnection.lentTo}): the client's writer wakes the dispatcher anyway while another
     * of its calls is pending ({@link ipc.connect.internal.signal.Signal#signal(java.util.function.BooleanSupplier)}).
     */
    public static final int SERVER_POLLERS_OFFSET = 320;
    public static final int DOORBELL_OFFSET = 384;
    /**
     * Where a server's handler thread that counts as polling the request ring may sleep instead, in the kernel
     * ({@code ServerConnection.doze}): the client's writer rings it whenever it rings the channel's doorbell, pollers
     * or not (the dozers of a {@link ipc.connect.internal.signal.Signal}).
     */
    public static final int HANDLER_DOORBELL_OFFSET = DOORBELL_OFFSET + SignalDescriptor.LENGTH;
    public static final int HEADER_LENGTH = HANDLER_DOORBELL_OFFSET + SignalDescriptor.LENGTH;

    public static final int CLIENT_OPEN = 1;
    public static final int CLIENT_CLOSED = 2;

    public static final int SERVER_PENDING = 0;
    public static final int SERVER_ACCEPTED = 1;
    public static final int SERVER_REFUSED = 2;
    public static final int SERVER_CLOSED = 3;

    private ConnectionDescriptor() {
    }

    public static long requestRingOffset() {
        return HEADER_LENGTH;
    }

    public static long responseRingOffset(int ringCapacity) {
        return HEADER_LENGTH + RingDescriptor.ringLength(ringCapacity);
    }

    public static long fileLength(int ringCapacity) {
        return HEADER_LENGTH + 2 * RingDescriptor.ringLength(ringCapacity);
    }

    /**
     * Checks a connection header against the server's settings.
     *
     * @throws IpcException naming the file and both values of whatever differs
     */
    public static void checkHeader(String channel, Object file, long fileLength, long magic, int version,
                                   int headerLength, int ringCapacity, int expectedRingCapacity) throws IpcException {
        if (fileLength < HEADER_LENGTH) {
            throw new IpcException("channel '" + channel + "': connection file " + file + " is " + fileLength
                    + " bytes, shorter than the " + HEADER_LENGTH + "-byte header");
        }
        if (magic != MAGIC) {
            throw new IpcException("channel '" + channel + "': " + file + " is not a connection file (magic 0x"
                    + Long.toHexString(magic) + ", expected 0x" + Long.toHexString(MAGIC) + ")");
        }
        if (version != LAYOUT_VERSION) {
            throw new IpcException("channel '" + channel + "': connection file " + file + " has layout version "
                    + version + ", this library reads version " + LAYOUT_VERSION);
        }
        if (ringCapacity != expectedRingCapacity) {
            throw new IpcException("channel '" + channel + "': connection file " + file + " has ring capacity "
                    + ringCapacity + ", the server uses " + expectedRingCapacity);
        }
        if (headerLength != HEADER_LENGTH || fileLength < fileLength(ringCapacity)) {
            throw new IpcException("channel '" + channel + "': connection file " + file + " has header length "
                    + headerLength + " (expected " + HEADER_LENGTH + ") and " + fileLength + " bytes (expected "
                    + fileLength(ringCapacity) + ")");
        }
    }
}
