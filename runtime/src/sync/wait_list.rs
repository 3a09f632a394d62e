//! A FIFO queue of parked waiters with O(1) push, pop and removal from the middle.
//!
//! Every primitive in `sync` keeps its sleeping futures here. Waiters must be removable from the
//! middle in O(1) because a future can be dropped at any time (a timeout fired, a `select` picked
//! another branch), and a plain `VecDeque` of keys would leave stale entries behind that pile up
//! while the front waiter stays stuck.
//!
//! The list is doubly linked through a [`Slab`], so there is no `unsafe` and no pointer: a node's
//! key is its handle. Taking a waiter off the queue ([`pop_front`](WaitList::pop_front)) does *not*
//! free its slot: the owning future still holds the key and reads the verdict (granted, notified,
//! closed) left in the node on its next poll, then frees it with [`remove`](WaitList::remove).
//! Because a slot is only freed by its owner, a key can never be reused while someone holds it.

use slab::Slab;

pub(crate) struct WaitList<T> {
    nodes: Slab<Node<T>>,
    head: Option<usize>,
    tail: Option<usize>,
}

struct Node<T> {
    value: T,
    /// `Some` neighbours only mean something while `linked` is true.
    prev: Option<usize>,
    next: Option<usize>,
    /// False once the node has been popped: it is out of the queue but its owner has not freed it.
    linked: bool,
}

impl<T> WaitList<T> {
    pub(crate) fn new() -> Self {
        WaitList {
            nodes: Slab::new(),
            head: None,
            tail: None,
        }
    }

    /// True when no waiter is queued (popped-but-not-freed nodes do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Queues `value` at the back and returns the key its owner keeps.
    pub(crate) fn push_back(&mut self, value: T) -> usize {
        let key = self.nodes.insert(Node {
            value,
            prev: self.tail,
            next: None,
            linked: true,
        });
        match self.tail {
            Some(tail) => self.nodes[tail].next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        key
    }

    /// The oldest queued waiter, if any.
    pub(crate) fn front_mut(&mut self) -> Option<&mut T> {
        let head = self.head?;
        Some(&mut self.nodes[head].value)
    }

    /// Takes the oldest waiter out of the queue, leaving its node for the owner to read and free.
    pub(crate) fn pop_front(&mut self) -> Option<&mut T> {
        let head = self.head?;
        self.unlink(head);
        Some(&mut self.nodes[head].value)
    }

    pub(crate) fn get_mut(&mut self, key: usize) -> &mut T {
        &mut self.nodes[key].value
    }

    /// Frees the owner's node, taking it out of the queue first if it is still there.
    pub(crate) fn remove(&mut self, key: usize) -> T {
        if self.nodes[key].linked {
            self.unlink(key);
        }
        self.nodes.remove(key).value
    }

    fn unlink(&mut self, key: usize) {
        let node = &mut self.nodes[key];
        node.linked = false;
        let (prev, next) = (node.prev.take(), node.next.take());
        match prev {
            Some(prev) => self.nodes[prev].next = next,
            None => self.head = next,
        }
        match next {
            Some(next) => self.nodes[next].prev = prev,
            None => self.tail = prev,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WaitList;

    fn drain(list: &mut WaitList<char>) -> String {
        std::iter::from_fn(|| list.pop_front().copied()).collect()
    }

    #[test]
    fn pops_in_arrival_order() {
        let mut list = WaitList::new();
        for c in ['a', 'b', 'c'] {
            list.push_back(c);
        }
        assert_eq!(drain(&mut list), "abc");
        assert!(list.is_empty());
    }

    #[test]
    fn removal_from_head_middle_and_tail_keeps_order() {
        let mut list = WaitList::new();
        let keys: Vec<usize> = "abcde".chars().map(|c| list.push_back(c)).collect();
        assert_eq!(list.remove(keys[2]), 'c');
        assert_eq!(list.remove(keys[0]), 'a');
        assert_eq!(list.remove(keys[4]), 'e');
        list.push_back('f');
        assert_eq!(drain(&mut list), "bdf");
    }

    #[test]
    fn popped_node_stays_readable_until_removed() {
        let mut list = WaitList::new();
        let a = list.push_back('a');
        let b = list.push_back('b');
        *list.pop_front().unwrap() = 'A';
        assert_eq!(*list.get_mut(a), 'A');
        assert_eq!(list.remove(a), 'A'); // removing a popped node must not disturb the queue
        assert_eq!(*list.front_mut().unwrap(), 'b');
        assert_eq!(list.remove(b), 'b');
        assert!(list.is_empty());
    }
}
