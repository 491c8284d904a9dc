"""Read what the code under test put on the real broker: which tasks, with which arguments."""

from campaign.celery import app


def queued_tasks(*queues, with_kwargs=False):
    """Take every message waiting on QUEUES off the broker, as (task name, args) pairs in order.

    WITH_KWARGS: (task name, args, kwargs) triples.
    """
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
                task = (message.headers["task"], tuple(body[0]))
                tasks.append((*task, body[1]) if with_kwargs else task)
                message.ack()
            queue.close()
    return tasks
