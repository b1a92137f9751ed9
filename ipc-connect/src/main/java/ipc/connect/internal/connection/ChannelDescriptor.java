package ipc.connect.internal.connection;

import ipc.connect.IpcException;
import ipc.connect.internal.signal.SignalDescriptor;

/**
 * Layout of a channel file ({@code <channel>.chan}), created by the listening server.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Magic "IPCCHAN1"                              |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Layout version (written last, release)        |  8
 *  +---------------------------------------------------------------+
 *  |                 Header length (bytes before the slots)        |  12
 *  +---------------------------------------------------------------+
 *  |                 Ring capacity (setting)                       |  16
 *  +---------------------------------------------------------------+
 *  |                 Max connections (setting; slot count)         |  20
 *  +---------------------------------------------------------------+
 *  |                 Server pid                                    |  24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Server start time (epoch ms)                  |  32
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Nonce (this server's generation)              |  40
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 State (OPEN, CLOSED)                          |  48
 *  +---------------------------------------------------------------+
 *  |                 Reserved                                      |  52
 *  +---------------------------------------------------------------+
 *  |                 Connect sequence (clients add 1 per connect)  |  56
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Max request bytes (setting)                   |  64
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 ... padding to 128 ...                        |
 *  +---------------------------------------------------------------+
 *  |                 Doorbell signal: the dispatcher sleeps here   |  128
 *  |                 (SignalDescriptor, 128 bytes)                 |
 *  +---------------------------------------------------------------+
 *  |                 Slot 0: state | reserved | connection id      |  256
 *  |                 Slot 1 ...                                   ...
 *  +---------------------------------------------------------------+
 * </pre>
 * A slot is 16 bytes: state (int), reserved (int), connection id (long). A client claims a FREE slot by CAS, writes
 * its connection id, and publishes the slot as PENDING with a release store; the dispatcher accepts it.
 */
public final class ChannelDescriptor {
    public static final long MAGIC = 0x314E414843435049L; // "IPCCHAN1" little-endian
    public static final int LAYOUT_VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int LAYOUT_VERSION_OFFSET = 8;
    public static final int HEADER_LENGTH_OFFSET = 12;
    public static final int RING_CAPACITY_OFFSET = 16;
    public static final int MAX_CONNECTIONS_OFFSET = 20;
    public static final int SERVER_PID_OFFSET = 24;
    public static final int SERVER_START_TIME_OFFSET = 32;
    public static final int NONCE_OFFSET = 40;
    public static final int STATE_OFFSET = 48;
    public static final int CONNECT_SEQUENCE_OFFSET = 56;
    public static final int MAX_REQUEST_BYTES_OFFSET = 64;
    public static final int DOORBELL_OFFSET = 128;
    public static final int HEADER_LENGTH = DOORBELL_OFFSET + SignalDescriptor.LENGTH;

    public static final int SLOT_LENGTH = 16;
    public static final int SLOT_STATE_OFFSET = 0;
    public static final int SLOT_CONNECTION_ID_OFFSET = 8;

    public static final int STATE_OPEN = 1;
    public static final int STATE_CLOSED = 2;

    public static final int SLOT_FREE = 0;
    public static final int SLOT_CLAIMED = 1;
    public static final int SLOT_PENDING = 2;
    public static final int SLOT_ACCEPTED = 3;

    /** Most connections a channel may allow. */
    public static final int MAX_CONNECTIONS_LIMIT = 4096;

    private ChannelDescriptor() {
    }

    /** Length of a channel file with {@code maxConnections} slots. */
    public static long fileLength(int maxConnections) {
        return HEADER_LENGTH + (long) maxConnections * SLOT_LENGTH;
    }

    /** Offset of slot {@code index}. */
    public static long slotOffset(int index) {
        return HEADER_LENGTH + (long) index * SLOT_LENGTH;
    }

    /**
     * Checks the fixed part of a channel header read from {@code file}.
     *
     * @throws IpcException naming the file and both values on a wrong magic, version or length
     */
    public static void checkHeader(String channel, Object file, long fileLength, long magic, int version,
                                   int headerLength, int maxConnections) throws IpcException {
        if (fileLength < HEADER_LENGTH) {
            throw new IpcException("channel '" + channel + "': file " + file + " is " + fileLength
                    + " bytes, shorter than the " + HEADER_LENGTH + "-byte header");
        }
        if (magic != MAGIC) {
            throw new IpcException("channel '" + channel + "': file " + file + " is not a channel file (magic 0x"
                    + Long.toHexString(magic) + ", expected 0x" + Long.toHexString(MAGIC) + ")");
        }
        if (version != LAYOUT_VERSION) {
            throw new IpcException("channel '" + channel + "': file " + file + " has layout version " + version
                    + ", this library reads version " + LAYOUT_VERSION);
        }
        if (headerLength != HEADER_LENGTH || maxConnections < 1 || maxConnections > MAX_CONNECTIONS_LIMIT
                || fileLength < fileLength(maxConnections)) {
            throw new IpcException("channel '" + channel + "': file " + file + " has header length " + headerLength
                    + " (expected " + HEADER_LENGTH + "), " + maxConnections + " slots and " + fileLength
                    + " bytes: inconsistent");
        }
    }
}
