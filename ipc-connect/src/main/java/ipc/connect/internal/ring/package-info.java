/**
 * Ring layer: a single-producer/single-consumer byte ring in shared memory, with the semantics of Agrona's
 * {@code OneToOneRingBuffer}. Layouts are described in {@link ipc.connect.internal.ring.RingDescriptor} and
 * {@link ipc.connect.internal.ring.RecordDescriptor}.
 */
package ipc.connect.internal.ring;
