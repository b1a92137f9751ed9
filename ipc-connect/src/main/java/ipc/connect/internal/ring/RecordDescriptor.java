package ipc.connect.internal.ring;

/**
 * Layout of a record in the data area of a ring. Records start on 8-byte boundaries.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Length (header + payload, unaligned)          |  0
 *  +---------------------------------------------------------------+
 *  |                 Type (PADDING_TYPE, or > 0 for data)          |  4
 *  +---------------------------------------------------------------+
 *  |                 Payload ...                                  ...  8
 *  +---------------------------------------------------------------+
 * </pre>
 * A padding record fills the rest of the data area when the next record would not fit before the end; the
 * consumer skips it. The type and payload are written plain; the length last, with a release store, which publishes
 * the record: the consumer polls the length at its position, which is zero until then (see {@link OneToOneRing}). A
 * padding record is published after the record it leads to.
 */
public final class RecordDescriptor {
    /** Offset of the record length. */
    public static final int LENGTH_OFFSET = 0;
    /** Offset of the record type. */
    public static final int TYPE_OFFSET = 4;
    /** Length of the record header; the payload starts here. */
    public static final int HEADER_LENGTH = 8;
    /** Records start on multiples of this. */
    public static final int ALIGNMENT = 8;
    /** Type of a padding record. */
    public static final int PADDING_TYPE = -1;

    private RecordDescriptor() {
    }

    /** {@code length} rounded up to the record alignment. */
    public static int align(int length) {
        return (length + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /**
     * Checks a data record type chosen by an upper layer: types are positive.
     *
     * @return the type
     */
    public static int checkType(int type) {
        if (type <= 0) {
            throw new IllegalArgumentException("record type must be positive: " + type);
        }
        return type;
    }
}
