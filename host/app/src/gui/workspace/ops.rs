//! Rearranging a layout: the moves the tab menu offers, as pure functions over the tree. Panels
//! are identified by their position in tree order (the order [`Layout::panels`] lists them).

use super::layout::{Layout, Orientation, PanelRef};

/// Takes panel `index` out of its group and puts it in a new group beside (horizontal) or
/// below (vertical) that group. A panel alone in its group stays where it is.
pub fn split_out(layout: Layout, index: usize, orientation: Orientation) -> Layout {
    let mut seen = 0;
    split_node(layout, index, orientation, &mut seen)
}

fn split_node(node: Layout, index: usize, orientation: Orientation, seen: &mut usize) -> Layout {
    match node {
        Layout::Tabs { mut panels, active } => {
            let start = *seen;
            *seen += panels.len();
            if index < start || index >= *seen || panels.len() < 2 {
                return Layout::Tabs { panels, active };
            }
            let moved = panels.remove(index - start);
            let active = active.min(panels.len() - 1);
            Layout::split(
                orientation,
                0.5,
                Layout::Tabs { panels, active },
                Layout::Tabs {
                    panels: vec![moved],
                    active: 0,
                },
            )
        }
        Layout::Split {
            orientation: o,
            ratio,
            first,
            second,
        } => {
            let first = split_node(*first, index, orientation, seen);
            let second = split_node(*second, index, orientation, seen);
            Layout::split(o, ratio, first, second)
        }
    }
}

/// Moves panel `index` to the next tab group in tree order (wrapping to the first); the group
/// it leaves collapses if it is now empty.
pub fn move_to_next_group(layout: Layout, index: usize) -> Layout {
    let groups = group_count(&layout);
    if groups < 2 {
        return layout;
    }
    let mut seen = 0;
    let mut group = 0;
    let mut taken = None;
    let mut from_group = 0;
    let layout = take(
        layout,
        index,
        &mut seen,
        &mut group,
        &mut taken,
        &mut from_group,
    );
    let Some(panel) = taken else {
        return layout;
    };
    let target = (from_group + 1) % groups;
    let mut group = 0;
    let layout = put(layout, target, panel, &mut group);
    layout.normalised().unwrap_or_else(|| Layout::tabs(&[]))
}

fn group_count(node: &Layout) -> usize {
    match node {
        Layout::Tabs { .. } => 1,
        Layout::Split { first, second, .. } => group_count(first) + group_count(second),
    }
}

fn take(
    node: Layout,
    index: usize,
    seen: &mut usize,
    group: &mut usize,
    taken: &mut Option<PanelRef>,
    from_group: &mut usize,
) -> Layout {
    match node {
        Layout::Tabs { mut panels, active } => {
            let start = *seen;
            *seen += panels.len();
            if (start..*seen).contains(&index) {
                *taken = Some(panels.remove(index - start));
                *from_group = *group;
            }
            *group += 1;
            Layout::Tabs { panels, active }
        }
        Layout::Split {
            orientation,
            ratio,
            first,
            second,
        } => {
            let first = take(*first, index, seen, group, taken, from_group);
            let second = take(*second, index, seen, group, taken, from_group);
            Layout::split(orientation, ratio, first, second)
        }
    }
}

fn put(node: Layout, target: usize, panel: PanelRef, group: &mut usize) -> Layout {
    let mut panel = Some(panel);
    put_inner(node, target, &mut panel, group)
}

fn put_inner(
    node: Layout,
    target: usize,
    panel: &mut Option<PanelRef>,
    group: &mut usize,
) -> Layout {
    match node {
        Layout::Tabs { mut panels, .. } => {
            let mut active = 0;
            if *group == target
                && let Some(panel) = panel.take()
            {
                panels.push(panel);
                active = panels.len() - 1;
            }
            *group += 1;
            Layout::Tabs { panels, active }
        }
        Layout::Split {
            orientation,
            ratio,
            first,
            second,
        } => {
            let first = put_inner(*first, target, panel, group);
            let second = put_inner(*second, target, panel, group);
            Layout::split(orientation, ratio, first, second)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(layout: &Layout) -> Vec<&str> {
        layout
            .panels()
            .iter()
            .map(|p| p.provider.as_str())
            .collect()
    }

    #[test]
    fn split_out_makes_a_new_group_beside_the_old_one() {
        let layout = split_out(Layout::tabs(&["a", "b", "c"]), 1, Orientation::Horizontal);
        assert_eq!(
            layout,
            Layout::split(
                Orientation::Horizontal,
                0.5,
                Layout::tabs(&["a", "c"]),
                Layout::tabs(&["b"])
            )
        );
        // Alone in its group: nothing to split.
        let alone = Layout::tabs(&["a"]);
        assert_eq!(split_out(alone.clone(), 0, Orientation::Vertical), alone);
    }

    #[test]
    fn move_to_next_group_wraps_and_collapses_the_emptied_group() {
        let layout = Layout::split(
            Orientation::Horizontal,
            0.3,
            Layout::tabs(&["a"]),
            Layout::tabs(&["b", "c"]),
        );
        let moved = move_to_next_group(layout.clone(), 0);
        assert_eq!(ids(&moved), ["b", "c", "a"]);
        assert_eq!(group_count(&moved), 1, "the emptied group collapsed");
        assert!(
            matches!(moved, Layout::Tabs { active: 2, .. }),
            "the moved tab is shown"
        );
        let wrapped = move_to_next_group(layout, 2);
        assert_eq!(ids(&wrapped), ["a", "c", "b"]);
        assert_eq!(group_count(&wrapped), 2);
    }
}
