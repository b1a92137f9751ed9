package ipc.connect.bench;

/** How the floors' threads wait for each other: they spin, and yield now and then so that on one core the other runs. */
final class FloorWait {
    private FloorWait() {
    }

    /** A pass of a wait: spins, yielding every {@code yieldEvery} passes. */
    static void idle(int passes, int yieldEvery) {
        if (passes % yieldEvery == 0) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }
}
