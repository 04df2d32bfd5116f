# A custom scheduler, as tracks of esrally register them. rally does not
# run this file: it reads it to learn that "bursty" comes from here, and
# refuses the challenge that uses it (the other challenge runs).


class BurstyScheduler:
    """Sends burst-size requests back to back, then waits a second."""

    def __init__(self, task, target_throughput):
        self.burst_size = task.params.get("burst-size", 10)
        self.sent = 0

    def next(self, current):
        self.sent += 1
        if self.sent % self.burst_size == 0:
            return current + 1.0
        return current


def register(registry):
    registry.register_scheduler("bursty", BurstyScheduler)
