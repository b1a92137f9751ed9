package ipc.connect.internal.ring;

import static ipc.connect.internal.memory.SharedAccess.getIntAcquire;
import static ipc.connect.internal.memory.SharedAccess.getIntPlain;
import static ipc.connect.internal.memory.SharedAccess.getLongAcquire;
import static ipc.connect.internal.memory.SharedAccess.setIntPlain;
import static ipc.connect.internal.memory.SharedAccess.setIntRelease;
import static ipc.connect.internal.memory.SharedAccess.setLongRelease;

import java.lang.foreign.MemorySegment;

/**
 * A single-producer/single-consumer byte ring over a region of shared memory laid out by {@link RingDescriptor}.
 *
 * <p>One process (one thread at a time) produces, one consumes. The producer writes a record plain and publishes it
 * with a release store of its length, the last word it writes (then of the tail, for those that only ask whether
 * records wait: {@link #mayHaveRecords()}); the consumer reads the length at its position with acquire, reads the
 * record, and gives the space back with a release store of the head. The length at the producer's position is always
 * zero: a commit zeroes the next record's length before it publishes its own (the producer keeps a header's room
 * free for that). So a consumer that polls sees a new record by the one cache line it lies on, as in Agrona's ring;
 * polling the tail first, on a line of its own, cost a second transfer between the cores per record: 0.1-0.2 µs of a
 * 1.0-1.1 µs round trip (p50 and p90, two processes, a test build).
 *
 * <p>Every position and length read from shared memory is checked; a violation throws
 * {@link RingCorruptedException} rather than reading outside the ring or looping.
 *
 * <p>A consumer may also {@linkplain #lend() lend} a record in place: its payload stays where it lies, and the
 * producer cannot overwrite it, until {@link #endLoan()}; reads find nothing meanwhile.
 *
 * <p>Instances are not thread-safe: the producer side ({@link #tryClaim}, {@link #commit}) and the consumer side
 * ({@link #read}, {@link #lend}, {@link #endLoan}) each need external confinement to one thread at a time.
 */
public final class OneToOneRing {
    private final MemorySegment segment;
    private final long base;
    private final long dataOffset;
    private final int capacity;
    private final int mask;
    private final int maxPayload;

    // Producer state (owned by the producing thread).
    private long tail;
    private long headCache;
    private long pendingTail = -1;
    private long pendingAt; // the claimed record's header offset
    private int pendingLength; // its length, written at commit
    private long pendingPaddingAt = -1; // the header offset of the padding before it, if any

    // Consumer state (owned by the consuming thread).
    private long head;
    private boolean lendAsked; // the handler called lend() for the record it handles now
    private long loanEnd = -1; // where the lent record ends, or -1: no loan

    /**
     * Attaches to a ring at {@code base} of {@code segment}; the segment must hold {@link RingDescriptor#ringLength}.
     * A new ring is all zeros; attaching to a used one picks up its current positions.
     */
    public OneToOneRing(MemorySegment segment, long base, int capacity) {
        RingDescriptor.checkCapacity(capacity);
        if (base < 0 || base % RingDescriptor.PAD != 0 || base + RingDescriptor.ringLength(capacity) > segment.byteSize()) {
            throw new IllegalArgumentException("ring at " + base + " of capacity " + capacity
                    + " does not fit an aligned place in a segment of " + segment.byteSize() + " bytes");
        }
        this.segment = segment;
        this.base = base;
        this.dataOffset = base + RingDescriptor.HEADER_LENGTH;
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.maxPayload = RingDescriptor.maxPayloadLength(capacity);
        this.tail = getLongAcquire(segment, base + RingDescriptor.TAIL_POSITION_OFFSET);
        this.head = getLongAcquire(segment, base + RingDescriptor.HEAD_POSITION_OFFSET);
        this.headCache = head;
        if (tail < head || tail - head > capacity) {
            throw new RingCorruptedException("ring positions out of order: head " + head + ", tail " + tail
                    + ", capacity " + capacity);
        }
    }

    public int capacity() {
        return capacity;
    }

    /** Largest payload one record may carry. */
    public int maxPayloadLength() {
        return maxPayload;
    }

    public MemorySegment segment() {
        return segment;
    }

    // ----------------------------------------------------------------------------------------------- producer side

    /**
     * Claims space for a record of {@code type} with {@code length} payload bytes. On success the caller writes the
     * payload at the returned offset of {@link #segment()} and then calls {@link #commit()}; nothing is visible to
     * the consumer before that.
     *
     * @return the payload offset in {@link #segment()}, or {@code -1} if the ring has no room now
     */
    public long tryClaim(int type, int length) {
        RecordDescriptor.checkType(type);
        if (length < 0 || length > maxPayload) {
            throw new IllegalArgumentException("record payload length out of range [0, " + maxPayload + "]: " + length);
        }
        if (pendingTail >= 0) {
            throw new IllegalStateException("a claimed record is not committed yet");
        }
        int recordLength = RecordDescriptor.HEADER_LENGTH + length;
        int aligned = RecordDescriptor.align(recordLength);
        int index = (int) (tail & mask);
        int toEnd = capacity - index;
        int padding = aligned > toEnd ? toEnd : 0;
        long required = required(aligned, padding);
        if (required > capacity - (tail - headCache)) {
            headCache = readHead();
            if (required > capacity - (tail - headCache)) {
                return -1;
            }
        }
        pendingPaddingAt = -1;
        if (padding != 0) {
            pendingPaddingAt = dataOffset + index; // published at commit, after the record it leads to
            setIntPlain(segment, pendingPaddingAt + RecordDescriptor.TYPE_OFFSET, RecordDescriptor.PADDING_TYPE);
            index = 0;
        }
        long at = dataOffset + index;
        setIntPlain(segment, at + RecordDescriptor.TYPE_OFFSET, type);
        pendingAt = at;
        pendingLength = recordLength;
        pendingTail = tail + padding + aligned;
        return at + RecordDescriptor.HEADER_LENGTH;
    }

    /**
     * Bytes a record takes from the free space: its aligned length, the padding before it, and the next record's
     * header, whose length the commit zeroes.
     */
    private static long required(int aligned, int padding) {
        return (long) aligned + padding + RecordDescriptor.HEADER_LENGTH;
    }

    /** Publishes the record claimed last. */
    public void commit() {
        if (pendingTail < 0) {
            throw new IllegalStateException("no claimed record to commit");
        }
        // the next record's length stays zero until it is published; then this record is published, and the
        // padding before it (if any), which leads the consumer to it
        setIntPlain(segment, dataOffset + (int) (pendingTail & mask) + RecordDescriptor.LENGTH_OFFSET, 0);
        setIntRelease(segment, pendingAt + RecordDescriptor.LENGTH_OFFSET, pendingLength);
        if (pendingPaddingAt >= 0) {
            setIntRelease(segment, pendingPaddingAt + RecordDescriptor.LENGTH_OFFSET,
                    (int) (capacity - (pendingPaddingAt - dataOffset)));
        }
        tail = pendingTail;
        pendingTail = -1;
        setLongRelease(segment, base + RingDescriptor.TAIL_POSITION_OFFSET, tail);
    }

    /** Abandons the record claimed last: nothing of it becomes visible. */
    public void abort() {
        pendingTail = -1;
    }

    /** Whether a record of {@code length} payload bytes would fit now. Producer side. */
    public boolean hasRoomFor(int length) {
        int aligned = RecordDescriptor.align(RecordDescriptor.HEADER_LENGTH + length);
        int toEnd = capacity - (int) (tail & mask);
        long required = required(aligned, aligned > toEnd ? toEnd : 0);
        if (required <= capacity - (tail - headCache)) {
            return true;
        }
        headCache = readHead();
        return required <= capacity - (tail - headCache);
    }

    private long readHead() {
        long h = getLongAcquire(segment, base + RingDescriptor.HEAD_POSITION_OFFSET);
        if (h > tail || tail - h > capacity || h < headCache) {
            throw new RingCorruptedException("ring head position " + h + " out of range: tail " + tail
                    + ", last head " + headCache + ", capacity " + capacity);
        }
        return h;
    }

    // ----------------------------------------------------------------------------------------------- consumer side

    /**
     * Reads up to {@code limit} records, handing each to {@code handler}; stops early at the first record the handler
     * leaves, and after a record it {@linkplain #lend() lends}. Padding is skipped. Space of consumed records is
     * given back to the producer before returning. While a record is lent, reads nothing.
     *
     * @return the number of records consumed (a lent record counts)
     */
    public int read(RecordHandler handler, int limit) {
        long h = head;
        if (loanEnd >= 0) {
            return 0;
        }
        long end = h + capacity; // no read goes round the ring: past this, the records cannot be the producer's
        int count = 0;
        try {
            while (count < limit) {
                int index = (int) (h & mask);
                long at = dataOffset + index;
                int length = getIntAcquire(segment, at + RecordDescriptor.LENGTH_OFFSET);
                if (length == 0) {
                    if (count == 0) {
                        checkNothingPublished(h, at);
                    }
                    break; // not published yet
                }
                int type = getIntPlain(segment, at + RecordDescriptor.TYPE_OFFSET);
                int aligned = RecordDescriptor.align(length);
                if (length < RecordDescriptor.HEADER_LENGTH || aligned > capacity - index || aligned > end - h) {
                    throw new RingCorruptedException("ring record at position " + h + " has length " + length
                            + ": outside [" + RecordDescriptor.HEADER_LENGTH + ", "
                            + Math.min(capacity - index, end - h) + "]");
                }
                if (type == RecordDescriptor.PADDING_TYPE) {
                    if (aligned != capacity - index) {
                        throw new RingCorruptedException("ring padding record at position " + h + " has length "
                                + length + ", expected " + (capacity - index));
                    }
                    h += aligned;
                    continue;
                }
                if (type <= 0) {
                    throw new RingCorruptedException("ring record at position " + h + " has type " + type);
                }
                boolean consumed = handler.onRecord(type, segment, at + RecordDescriptor.HEADER_LENGTH,
                        length - RecordDescriptor.HEADER_LENGTH);
                if (lendAsked) {
                    lendAsked = false;
                    if (!consumed) {
                        throw new IllegalStateException("a record was lent and left at once");
                    }
                    loanEnd = h + aligned; // the head stays at its start: the producer leaves it alone
                    count++;
                    break;
                }
                if (!consumed) {
                    break;
                }
                h += aligned;
                count++;
            }
        } finally {
            lendAsked = false;
            if (h != head) {
                head = h;
                setLongRelease(segment, base + RingDescriptor.HEAD_POSITION_OFFSET, h);
            }
        }
        return count;
    }

    /**
     * A read found no record at {@code h}: the producer's tail must not be ahead, unless its record was published
     * between the two looks (its length comes before the tail; so the tail may also lag behind a record just read). A
     * tail ahead of an empty place, or far behind, is the producer's garbage: left alone, it would have pollers find
     * records ({@link #mayHaveRecords()}) that no read ever takes.
     */
    private void checkNothingPublished(long h, long at) {
        long t = getLongAcquire(segment, base + RingDescriptor.TAIL_POSITION_OFFSET);
        if (t - h > 0 && getIntAcquire(segment, at + RecordDescriptor.LENGTH_OFFSET) == 0 || h - t > capacity) {
            throw new RingCorruptedException("ring tail position " + t + " but no record at head " + h
                    + " (capacity " + capacity + ")");
        }
    }

    /**
     * Whether a record may wait to be read: {@code false} only if the consumer has read all the producer has
     * published. Any thread may ask, without the consumer's confinement (an acquire load of the record length at the
     * consumer's position, and if it is zero of the producer's position; a plain one of the consumer's position, which
     * only ever lags, so that a length found there may be of a record read already): a poller asks before it takes the
     * lock that confines its read, and skips both while there is nothing. Also {@code true} while a record is lent;
     * {@code false} once the ring's memory is unmapped (its connection closed under an asking thread): nothing is left
     * to read.
     */
    public boolean mayHaveRecords() {
        try {
            long h = head;
            // the record's own line first: the one a consumer reads next anyway
            return getIntAcquire(segment, dataOffset + (int) (h & mask) + RecordDescriptor.LENGTH_OFFSET) != 0
                    || getLongAcquire(segment, base + RingDescriptor.TAIL_POSITION_OFFSET) - h > 0;
        } catch (IllegalStateException unmapped) {
            return false;
        }
    }

    /**
     * Called by the handler of {@link #read} while it handles a record (and then returns {@code true}): the record's
     * payload stays valid in place after the call, and the producer does not overwrite it, until {@link #endLoan()}.
     * The read stops after it; reads find nothing until the loan ends.
     */
    public void lend() {
        lendAsked = true;
    }

    /** Whether a record is lent (see {@link #lend()}). */
    public boolean isLent() {
        return loanEnd >= 0;
    }

    /** Gives the lent record's space back to the producer; reads go on after it. Consumer side. */
    public void endLoan() {
        if (loanEnd < 0) {
            throw new IllegalStateException("no record is lent");
        }
        head = loanEnd;
        loanEnd = -1;
        setLongRelease(segment, base + RingDescriptor.HEAD_POSITION_OFFSET, head);
    }

    /** The consumer's position as published in shared memory; any thread may read it. */
    public long headPosition() {
        return getLongAcquire(segment, base + RingDescriptor.HEAD_POSITION_OFFSET);
    }
}
