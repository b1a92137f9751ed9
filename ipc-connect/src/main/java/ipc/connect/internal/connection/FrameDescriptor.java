package ipc.connect.internal.connection;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Layout of a frame: the payload of one ring record, whose record type is the frame kind.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Request id (per connection, from 1 up)        |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Chunk ...                                    ...  8
 *  +---------------------------------------------------------------+
 * </pre>
 * A request is zero or more REQUEST frames then one REQUEST_END frame, each with a chunk of the body (the end frame's
 * may be empty), or zero or more REQUEST frames then a CANCEL frame (the client gave up, or its body's source
 * failed): either way nothing more is sent for that id, so the server takes any id it does not know for a new
 * request. A CANCEL after REQUEST_END abandons the response. A response is RESPONSE frames then RESPONSE_END, or an
 * ERROR frame at any point, whose chunk is {@code [class name length:int][class name UTF-8][message UTF-8]}. CANCEL
 * and PING chunks are empty.
 *
 * <p>Flow control: the chunk bytes of one body in flight may not exceed the receiver's window, which starts at
 * {@link ChannelSettings#window()} and grows by each WINDOW frame the receiver sends for that request id (chunk:
 * {@code [credit:int]}, the bytes its consumer has read since its last WINDOW). WINDOW frames go both ways.
 *
 * <p>STOP (server to client, empty chunk): the handler closed the request before its end, so the rest of the body is
 * not needed; the client stops sending it and ends the request with an empty REQUEST_END (not CANCEL: the response
 * still comes).
 */
public final class FrameDescriptor {
    public static final int REQUEST_ID_OFFSET = 0;
    public static final int HEADER_LENGTH = 8;

    public static final int REQUEST = 1;
    public static final int REQUEST_END = 2;
    public static final int RESPONSE = 3;
    public static final int RESPONSE_END = 4;
    public static final int ERROR = 5;
    public static final int CANCEL = 6;
    public static final int CLOSE = 7;
    public static final int PING = 8;
    public static final int WINDOW = 9;
    public static final int STOP = 10;
    /** Offset of the credit (int) in a WINDOW frame's chunk. */
    public static final int WINDOW_CREDIT_OFFSET = 0;
    public static final int WINDOW_LENGTH = 4;

    private FrameDescriptor() {
    }

    public static String kindName(int kind) {
        return switch (kind) {
            case REQUEST -> "REQUEST";
            case REQUEST_END -> "REQUEST_END";
            case RESPONSE -> "RESPONSE";
            case RESPONSE_END -> "RESPONSE_END";
            case ERROR -> "ERROR";
            case CANCEL -> "CANCEL";
            case CLOSE -> "CLOSE";
            case PING -> "PING";
            case WINDOW -> "WINDOW";
            case STOP -> "STOP";
            default -> "unknown kind " + kind;
        };
    }

    /**
     * The request id in the header of a frame of {@code length} bytes at {@code offset}, checked to hold one; its
     * chunk follows at {@code offset + HEADER_LENGTH}.
     *
     * @throws ProtocolException if the frame is shorter than its header
     */
    static long requestId(int kind, MemorySegment buffer, long offset, int length) {
        if (length < HEADER_LENGTH) {
            throw new ProtocolException(kindName(kind) + " frame of " + length + " bytes, shorter than the "
                    + HEADER_LENGTH + "-byte frame header");
        }
        return buffer.get(ValueLayout.JAVA_LONG_UNALIGNED, offset + REQUEST_ID_OFFSET);
    }

    /**
     * The credit of a WINDOW frame's chunk, checked.
     *
     * @throws ProtocolException if the chunk has the wrong length or the credit is not positive
     */
    static int windowCredit(MemorySegment buffer, long offset, int length) {
        if (length != WINDOW_LENGTH) {
            throw new ProtocolException("WINDOW frame with a chunk of " + length + " bytes, expected "
                    + WINDOW_LENGTH);
        }
        int credit = buffer.get(ValueLayout.JAVA_INT_UNALIGNED, offset + WINDOW_CREDIT_OFFSET);
        if (credit <= 0) {
            throw new ProtocolException("WINDOW frame with credit " + credit);
        }
        return credit;
    }

    /** Encodes the chunk of an ERROR frame, cut to {@code maxLength} bytes. */
    public static byte[] encodeError(String className, String message, int maxLength) {
        byte[] name = className.getBytes(StandardCharsets.UTF_8);
        byte[] text = (message == null ? "" : message).getBytes(StandardCharsets.UTF_8);
        int nameLength = Math.min(name.length, Math.max(0, maxLength - 4));
        int textLength = Math.min(text.length, Math.max(0, maxLength - 4 - nameLength));
        byte[] chunk = new byte[4 + nameLength + textLength];
        MemorySegment.ofArray(chunk).set(ValueLayout.JAVA_INT_UNALIGNED, 0, nameLength);
        System.arraycopy(name, 0, chunk, 4, nameLength);
        System.arraycopy(text, 0, chunk, 4 + nameLength, textLength);
        return chunk;
    }

    /**
     * Decodes the chunk of an ERROR frame into {class name, message}; a malformed chunk gives a description of the
     * damage instead, never an exception.
     */
    public static String[] decodeError(MemorySegment buffer, long offset, int length) {
        if (length < 4) {
            return new String[] {"?", "malformed error frame of " + length + " bytes"};
        }
        int nameLength = buffer.get(ValueLayout.JAVA_INT_UNALIGNED, offset);
        if (nameLength < 0 || nameLength > length - 4) {
            return new String[] {"?", "malformed error frame: class name length " + nameLength + " of " + length};
        }
        byte[] bytes = new byte[length - 4];
        MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, offset + 4, bytes, 0, bytes.length);
        return new String[] {
                new String(bytes, 0, nameLength, StandardCharsets.UTF_8),
                new String(bytes, nameLength, bytes.length - nameLength, StandardCharsets.UTF_8)};
    }
}
