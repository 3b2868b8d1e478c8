//! The one idiom every provider's state machine shares: a table of `(from, event, to)`
//! moves, and nothing else may happen. Each model keeps its own table (its states and
//! events are its own); the lookup is written once, here.

/// Where `event` takes something in state `from`, if `table` allows that move at all.
pub fn next<S: Copy + PartialEq, E: PartialEq>(
    table: &[(S, E, S)],
    from: S,
    event: E,
) -> Option<S> {
    table
        .iter()
        .find(|(f, e, _)| *f == from && *e == event)
        .map(|(_, _, to)| *to)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_listed_moves_happen() {
        let table = [(1, 'a', 2), (2, 'b', 3)];
        assert_eq!(super::next(&table, 1, 'a'), Some(2));
        assert_eq!(super::next(&table, 1, 'b'), None);
        assert_eq!(super::next(&table, 3, 'a'), None);
    }
}
