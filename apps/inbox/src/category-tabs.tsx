import { categoryCounts, type CountsBody, type InboxView } from '@herald/react';

export interface CategoryTabsProps {
  categories: readonly string[];
  counts: CountsBody;
  view: InboxView;
  onSelect(view: InboxView): void;
}

/** All, one tab per category with its unread count, and the archive. */
export function CategoryTabs({ categories, counts, view, onSelect }: CategoryTabsProps) {
  const tabs: { key: string; label: string; unread: number | undefined; target: InboxView }[] = [
    { key: 'all', label: 'All', unread: counts.unread, target: { category: null, archived: false } },
    ...categories.map((category) => ({
      key: `category:${category}`,
      label: category,
      unread: categoryCounts(counts, category).unread,
      target: { category, archived: false },
    })),
    { key: 'archive', label: 'Archive', unread: undefined, target: { category: null, archived: true } },
  ];
  return (
    <nav className="tabs" role="tablist" aria-label="Notification categories">
      {tabs.map(({ key, label, unread, target }) => {
        const selected = target.archived === view.archived && target.category === view.category;
        return (
          <button
            key={key}
            type="button"
            role="tab"
            aria-selected={selected}
            className={`tab${selected ? ' tab--selected' : ''}`}
            onClick={() => onSelect(target)}
            data-testid="tab"
            data-tab={key}
            data-unread={unread ?? ''}
          >
            {label}
            {unread !== undefined && unread > 0 && (
              <span className="tab__count" aria-label={`${unread} unread`}>
                {unread > 99 ? '99+' : unread}
              </span>
            )}
          </button>
        );
      })}
    </nav>
  );
}
