//! A fixed-capacity FIFO that drops (and counts) its oldest item when full:
//! how detectors hand events to a caller that may pull late, and where the
//! orientation estimator keeps the samples waiting for late GPS fixes.

/// Fixed-capacity FIFO; pushing into a full queue drops the oldest item.
#[derive(Clone, Copy, Debug)]
pub struct EventQueue<T: Copy, const N: usize> {
    items: [Option<T>; N],
    head: usize,
    len: usize,
    dropped: u32,
}

impl<T: Copy, const N: usize> EventQueue<T, N> {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            items: [None; N],
            head: 0,
            len: 0,
            dropped: 0,
        }
    }

    /// Takes the oldest item.
    pub fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let e = self.items[self.head].take();
        self.head = (self.head + 1) % N;
        self.len -= 1;
        e
    }

    /// Appends an item, dropping the oldest when full.
    pub fn push(&mut self, e: T) {
        if N == 0 {
            self.dropped += 1;
            return;
        }
        if self.len == N {
            let _ = self.pop();
            self.dropped += 1;
        }
        let idx = (self.head + self.len) % N;
        self.items[idx] = Some(e);
        self.len += 1;
    }

    /// The oldest item, to change in place.
    pub fn front_mut(&mut self) -> Option<&mut T> {
        if self.len == 0 {
            return None;
        }
        self.items[self.head].as_mut()
    }

    /// The oldest item.
    pub fn front(&self) -> Option<&T> {
        if self.len == 0 {
            return None;
        }
        self.items[self.head].as_ref()
    }

    /// Drops every item (not counted as dropped: nobody was to pull them).
    pub fn clear(&mut self) {
        self.items = [None; N];
        self.head = 0;
        self.len = 0;
    }

    /// Whether the next push drops the oldest item.
    pub fn is_full(&self) -> bool {
        self.len == N
    }

    /// Items dropped because nobody pulled them in time.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: Copy, const N: usize> Default for EventQueue<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_oldest_when_full() {
        let mut q: EventQueue<u8, 2> = EventQueue::new();
        assert!(q.is_empty());
        q.push(1);
        q.push(2);
        q.push(3);
        assert_eq!(q.dropped(), 1);
        assert_eq!(q.len(), 2);
        assert!(q.is_full());
        assert_eq!(q.front(), Some(&2));
        if let Some(front) = q.front_mut() {
            *front = 20;
        }
        assert_eq!(q.pop(), Some(20));
        assert_eq!(q.pop(), Some(3));
        assert_eq!(q.pop(), None);
        assert_eq!(q.front(), None);
        q.push(4);
        q.clear();
        assert!(q.is_empty());
        assert_eq!(q.dropped(), 1, "clearing is not dropping");
    }
}
