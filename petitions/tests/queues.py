"""Read what the code under test put on the real broker: which tasks, with which arguments."""

from campaign.celery import app


def queued_tasks(*queues):
    """Take every message waiting on QUEUES off the broker, as (task name, args) pairs in order."""
    tasks = []
    with app.connection_for_read() as connection:
        for name in queues or ("mail", "letters", "news"):
            queue = connection.SimpleQueue(name)
            while True:
                try:
                    message = queue.get(block=True, timeout=0.2)
                except queue.Empty:
                    break
                body = message.decode()
                tasks.append((message.headers["task"], tuple(body[0])))
                message.ack()
            queue.close()
    return tasks
