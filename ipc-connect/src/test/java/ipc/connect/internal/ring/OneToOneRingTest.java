package ipc.connect.internal.ring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ipc.connect.internal.memory.SharedAccess;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The ring alone, in one process: records in order across wrap-around, and garbage never escapes its bounds. */
class OneToOneRingTest {
    private static final int CAPACITY = 4096;

    private static MemorySegment newRingMemory() {
        return Arena.ofAuto().allocate(RingDescriptor.ringLength(CAPACITY), 128);
    }

    @Test
    void mayHaveRecordsIsFalseOnlyWhileAllThatWasPublishedIsRead() {
        MemorySegment memory = newRingMemory();
        OneToOneRing producer = new OneToOneRing(memory, 0, CAPACITY);
        OneToOneRing consumer = new OneToOneRing(memory, 0, CAPACITY);
        assertFalse(consumer.mayHaveRecords(), "a new ring");
        producer.tryClaim(1, 8);
        assertFalse(consumer.mayHaveRecords(), "claimed, not committed");
        producer.commit();
        assertTrue(consumer.mayHaveRecords(), "committed");
        consumer.read((type, buffer, offset, length) -> {
            consumer.lend();
            return true;
        }, 1);
        assertTrue(consumer.mayHaveRecords(), "read but lent: it is still there");
        consumer.endLoan();
        assertFalse(consumer.mayHaveRecords(), "given back");
        for (int lap = 0; lap < 3 * CAPACITY / 64; lap++) {
            producer.tryClaim(2, 40);
            producer.commit();
            assertTrue(consumer.mayHaveRecords(), "record " + lap);
            assertEquals(1, consumer.read((type, buffer, offset, length) -> true, 8));
            assertFalse(consumer.mayHaveRecords(), "record " + lap + " read");
        }
        Arena arena = Arena.ofShared();
        MemorySegment closing = arena.allocate(RingDescriptor.ringLength(CAPACITY), 128);
        OneToOneRing unmapped = new OneToOneRing(closing, 0, CAPACITY);
        OneToOneRing itsProducer = new OneToOneRing(closing, 0, CAPACITY);
        itsProducer.tryClaim(1, 8);
        itsProducer.commit();
        assertTrue(unmapped.mayHaveRecords(), "published");
        arena.close();
        assertFalse(unmapped.mayHaveRecords(), "its memory gone: nothing is left to read");
    }

    /**
     * A producer and a consumer on two threads, as in use: every record arrives once, in order, whole, its length
     * published after its bytes (the consumer polls the length, not the tail), across many wrap-arounds.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aProducerAndAConsumerOnTwoThreadsAgreeOnEveryRecord() throws Exception {
        MemorySegment memory = newRingMemory();
        OneToOneRing producer = new OneToOneRing(memory, 0, CAPACITY);
        OneToOneRing consumer = new OneToOneRing(memory, 0, CAPACITY);
        int records = 200_000;
        int sizes = producer.maxPayloadLength() + 1;
        Thread writer = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < records; i++) {
                int length = (i * 7919) % sizes;
                long at;
                while ((at = producer.tryClaim(1 + i % 5, length)) < 0) {
                    Thread.onSpinWait();
                }
                memory.asSlice(at, length).fill((byte) i);
                producer.commit();
            }
        });
        int[] seen = {0};
        try {
            while (seen[0] < records) {
                consumer.read((type, buffer, offset, length) -> {
                    int i = seen[0];
                    assertEquals(1 + i % 5, type, "record " + i);
                    assertEquals((i * 7919) % sizes, length, "record " + i);
                    for (int b = 0; b < length; b++) {
                        if (buffer.get(ValueLayout.JAVA_BYTE, offset + b) != (byte) i) {
                            throw new AssertionError("record " + i + ": byte " + b + " not yet written");
                        }
                    }
                    seen[0]++;
                    return true;
                }, 64);
            }
        } finally {
            writer.join(30_000);
        }
        assertFalse(consumer.mayHaveRecords(), "all read");
    }

    /**
     * Records are published by their length; a tail moved with no record where the consumer stands is the producer's
     * garbage, which pollers would otherwise take for a record that no read ever takes.
     */
    @Test
    void aTailMovedWithoutARecordIsCorruption() {
        MemorySegment memory = newRingMemory();
        OneToOneRing producer = new OneToOneRing(memory, 0, CAPACITY);
        OneToOneRing consumer = new OneToOneRing(memory, 0, CAPACITY);
        producer.tryClaim(1, 8);
        producer.commit();
        assertEquals(1, consumer.read((type, buffer, offset, length) -> true, 8));
        assertEquals(0, consumer.read((type, buffer, offset, length) -> true, 8), "nothing more published");
        SharedAccess.setLongRelease(memory, RingDescriptor.TAIL_POSITION_OFFSET, 64);
        assertTrue(consumer.mayHaveRecords());
        RingCorruptedException e = assertThrows(RingCorruptedException.class,
                () -> consumer.read((type, buffer, offset, length) -> true, 8));
        assertTrue(e.getMessage().contains("tail position 64 but no record at head 16"), e.getMessage());
    }

    @Test
    void recordsArriveInOrderAcrossManyWrapArounds() {
        MemorySegment memory = newRingMemory();
        OneToOneRing producer = new OneToOneRing(memory, 0, CAPACITY);
        OneToOneRing consumer = new OneToOneRing(memory, 0, CAPACITY);
        List<Integer> seen = new ArrayList<>();
        int next = 0;
        while (next < 5000) {
            int length = next % (producer.maxPayloadLength() + 1);
            long at = producer.tryClaim(1 + next % 7, length);
            if (at >= 0) {
                memory.asSlice(at, length).fill((byte) next);
                producer.commit();
                next++;
            } else {
                consumer.read((type, buffer, offset, len) -> {
                    int index = seen.size();
                    assertEquals(1 + index % 7, type);
                    assertEquals(index % (producer.maxPayloadLength() + 1), len);
                    for (int i = 0; i < len; i++) {
                        assertEquals((byte) index, buffer.get(ValueLayout.JAVA_BYTE, offset + i));
                    }
                    seen.add(index);
                    return true;
                }, Integer.MAX_VALUE);
            }
        }
        consumer.read((type, buffer, offset, len) -> seen.add(seen.size()), Integer.MAX_VALUE);
        assertEquals(5000, seen.size());
    }

    @Test
    void aLeftRecordStaysForTheNextRead() {
        MemorySegment memory = newRingMemory();
        OneToOneRing producer = new OneToOneRing(memory, 0, CAPACITY);
        OneToOneRing consumer = new OneToOneRing(memory, 0, CAPACITY);
        for (int i = 1; i <= 3; i++) {
            long at = producer.tryClaim(i, 1);
            memory.set(ValueLayout.JAVA_BYTE, at, (byte) i);
            producer.commit();
        }
        assertEquals(1, consumer.read((type, buffer, offset, len) -> type == 1, 10));
        List<Integer> rest = new ArrayList<>();
        assertEquals(2, consumer.read((type, buffer, offset, len) -> rest.add(type), 10));
        assertEquals(List.of(2, 3), rest);
        assertArrayEquals(new int[] {0}, new int[] {consumer.read((t, b, o, l) -> true, 10)});
    }

    /**
     * A lent record keeps its bytes and its space: the producer cannot claim over it, reads find nothing, and once
     * the loan ends both go on (across the wrap, so that a lent record is also overwritten in the next lap).
     */
    @Test
    void aLentRecordStaysInPlaceUntilItsLoanEnds() {
        MemorySegment memory = newRingMemory();
        OneToOneRing producer = new OneToOneRing(memory, 0, CAPACITY);
        OneToOneRing consumer = new OneToOneRing(memory, 0, CAPACITY);
        int length = producer.maxPayloadLength();
        for (int lap = 0; lap < 20; lap++) {
            long at = producer.tryClaim(1, length);
            memory.asSlice(at, length).fill((byte) lap);
            producer.commit();
            long[] lent = {-1};
            assertEquals(1, consumer.read((type, buffer, offset, len) -> {
                lent[0] = offset;
                consumer.lend();
                return true;
            }, 10));
            assertTrue(consumer.isLent());
            int claimed = 0;
            while ((at = producer.tryClaim(2, length)) >= 0) {
                memory.asSlice(at, length).fill((byte) -1);
                producer.commit();
                claimed++;
            }
            // all but the lent one's place, and the header's room kept free at the producer's position
            assertEquals(CAPACITY / (length + RecordDescriptor.HEADER_LENGTH) - 2, claimed,
                    "records that fit beside the lent one");
            assertEquals(0, consumer.read((type, buffer, offset, len) -> true, 10), "nothing read while lent");
            for (int i = 0; i < length; i++) {
                assertEquals((byte) lap, memory.get(ValueLayout.JAVA_BYTE, lent[0] + i), "lent byte " + i);
            }
            consumer.endLoan();
            assertTrue(!consumer.isLent());
            assertEquals(claimed, consumer.read((type, buffer, offset, len) -> type == 2, 100), "the rest, after it");
        }
    }

    @Provide
    Arbitrary<byte[]> garbage() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(512);
    }

    /**
     * A hostile producer: random tail, random bytes at random places of the data area. The consumer either hands
     * out records inside the data area or throws {@link RingCorruptedException}; nothing else, and it stops.
     */
    @Property(tries = 3000)
    void garbageFromTheProducerIsContained(@ForAll("garbage") byte[] bytes, @ForAll @IntRange(min = 0, max = 4095) int at,
                                           @ForAll long tail, @ForAll @IntRange(min = 0, max = 3) int shape) {
        MemorySegment memory = newRingMemory();
        long dataStart = RingDescriptor.HEADER_LENGTH;
        int n = Math.min(bytes.length, CAPACITY - at);
        MemorySegment.copy(bytes, 0, memory, ValueLayout.JAVA_BYTE, dataStart + at, n);
        long published = switch (shape) {
            case 0 -> tail;                                 // anything
            case 1 -> Math.floorMod(tail, CAPACITY + 1L);   // plausible
            case 2 -> Math.floorMod(tail, CAPACITY / 8) * 8; // aligned and plausible
            default -> -Math.abs(tail % 1000);               // behind the head
        };
        SharedAccess.setLongRelease(memory, RingDescriptor.TAIL_POSITION_OFFSET, published);
        try {
            OneToOneRing consumer = new OneToOneRing(memory, 0, CAPACITY);
            consumer.read((type, buffer, offset, length) -> {
                assertTrue(type > 0, "type " + type);
                assertTrue(offset >= dataStart && length >= 0 && offset + length <= dataStart + CAPACITY,
                        "record [" + offset + ", +" + length + ") outside the data area");
                return true;
            }, Integer.MAX_VALUE);
        } catch (RingCorruptedException expected) {
            // contained
        }
    }

    /** A hostile consumer: random head. The producer claims inside the data area or throws; nothing else. */
    @Property(tries = 2000)
    void garbageFromTheConsumerIsContained(@ForAll long head, @ForAll @IntRange(min = 0, max = 600) int length) {
        MemorySegment memory = newRingMemory();
        OneToOneRing producer = new OneToOneRing(memory, 0, CAPACITY);
        SharedAccess.setLongRelease(memory, RingDescriptor.HEAD_POSITION_OFFSET, head);
        for (int i = 0; i < 20; i++) {
            try {
                int claimed = Math.min(length, producer.maxPayloadLength());
                long at = producer.tryClaim(1, claimed);
                if (at >= 0) {
                    assertTrue(at >= RingDescriptor.HEADER_LENGTH + RecordDescriptor.HEADER_LENGTH
                                    && at + claimed <= RingDescriptor.ringLength(CAPACITY), "claim at " + at);
                    producer.commit();
                }
            } catch (RingCorruptedException expected) {
                return;
            }
        }
    }
}
