package ipc.connect.internal.connection;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The exchanges of one connection by request id. Ids come from one counter per connection, so the exchanges in
 * flight together have ids within a short run: each goes in the slot its id's low bits name, with a compare-and-set,
 * and no allocation or boxing. An exchange whose slot is taken (more than {@value #SLOTS} in flight, or ids from a
 * hostile client) goes in an overflow map instead.
 *
 * <p>Thread-safe and lock-free; {@link #snapshot()} and {@link #clear()} are weakly consistent, like the iterators
 * of {@link ConcurrentHashMap}.
 *
 * @param <E> the exchange type
 */
final class ExchangeTable<E extends ExchangeTable.Keyed> {
    /** What the table stores: anything with a fixed request id. */
    interface Keyed {
        long requestId();
    }

    static final int SLOTS = 1024;
    private static final int MASK = SLOTS - 1;

    private final AtomicReferenceArray<E> slots = new AtomicReferenceArray<>(SLOTS);
    private final Map<Long, E> overflow = new ConcurrentHashMap<>();
    private final AtomicInteger size = new AtomicInteger();

    /** Adds {@code exchange}; its id must not be in the table. */
    void put(E exchange) {
        size.incrementAndGet();
        if (!slots.compareAndSet(slot(exchange.requestId()), null, exchange)) {
            overflow.put(exchange.requestId(), exchange);
        }
    }

    /** The exchange with {@code requestId}, or {@code null}. */
    E get(long requestId) {
        E exchange = slots.get(slot(requestId));
        if (exchange != null && exchange.requestId() == requestId) {
            return exchange;
        }
        return overflow.isEmpty() ? null : overflow.get(requestId);
    }

    /** Removes and returns the exchange with {@code requestId}, or returns {@code null}. */
    E remove(long requestId) {
        int slot = slot(requestId);
        E exchange = slots.get(slot);
        if (exchange != null && exchange.requestId() == requestId && slots.compareAndSet(slot, exchange, null)) {
            size.decrementAndGet();
            return exchange;
        }
        exchange = overflow.isEmpty() ? null : overflow.remove(requestId);
        if (exchange != null) {
            size.decrementAndGet();
        }
        return exchange;
    }

    /** Removes {@code exchange} if it is in the table. */
    void remove(E exchange) {
        if (slots.compareAndSet(slot(exchange.requestId()), exchange, null)
                || (!overflow.isEmpty() && overflow.remove(exchange.requestId(), exchange))) {
            size.decrementAndGet();
        }
    }

    boolean isEmpty() {
        return size.get() == 0;
    }

    int size() {
        return size.get();
    }

    /** The exchanges in the table now (the slots', then the overflow's). */
    List<E> snapshot() {
        List<E> all = new ArrayList<>();
        for (int i = 0; i < SLOTS; i++) {
            E exchange = slots.get(i);
            if (exchange != null) {
                all.add(exchange);
            }
        }
        all.addAll(overflow.values());
        return all;
    }

    /** Removes every exchange present now. */
    void clear() {
        for (int i = 0; i < SLOTS; i++) {
            if (slots.getAndSet(i, null) != null) {
                size.decrementAndGet();
            }
        }
        for (Long requestId : overflow.keySet()) {
            if (overflow.remove(requestId) != null) {
                size.decrementAndGet();
            }
        }
    }

    private static int slot(long requestId) {
        return (int) requestId & MASK;
    }
}
