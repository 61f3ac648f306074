"""Change events, cloud-neutral: what a cloud's change event asks to rescan (``ChangeTarget``), the queue a
provider reads them from (``EventSource``), how a burst coalesces into few rescans (``batch``), and the consumer
loop that deletes a message only once the rescan covering it is recorded (``consumer``). Each cloud's queue client
and message parser live in its provider package (``providers/<cloud>/events*.py``); the daemon wires the consumer
to the scan services."""
