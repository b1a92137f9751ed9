/**
 * Connection and protocol layer: the server's channel file, one connection file per client, the frames that move
 * requests and responses through the connection's two rings, and the threads that poll them.
 *
 * <h2>Threads</h2>
 * Each listening channel has one platform <em>dispatcher</em> thread that polls every connection's request ring and
 * sleeps on the channel's doorbell; each client connection has one platform <em>reader</em> thread that polls the
 * response ring and sleeps on the connection's doorbell. Only these two kinds of thread sleep in the kernel. Every
 * other thread (handlers, callers, request pumps; possibly virtual) waits in-process on locks and conditions and is
 * woken by its poller.
 *
 * <h2>Flow control</h2>
 * A frame is copied out of the ring into the receiving exchange's bounded {@link InboundStream}; when that is full
 * the poller leaves the frame in the ring, the ring fills, and the sender's {@link FrameWriter} waits for room. So a
 * 10 GB stream moves with bounded memory on both sides.
 */
package ipc.connect.internal.connection;
