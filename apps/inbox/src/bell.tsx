export interface BellProps {
  count: number;
}

/** A bell with the unread count; the badge is hidden at zero but keeps its text for assistive technology. */
export function Bell({ count }: BellProps) {
  const label = count === 0 ? 'No unread notifications' : `${count} unread notification${count === 1 ? '' : 's'}`;
  return (
    <div className="bell" data-testid="bell">
      <svg className="bell__icon" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">
        <path
          d="M12 2a6 6 0 0 0-6 6v3.6c0 .9-.3 1.7-.8 2.4L4 15.8V17h16v-1.2L18.8 14a4.2 4.2 0 0 1-.8-2.4V8a6 6 0 0 0-6-6Zm0 20a2.5 2.5 0 0 0 2.4-2h-4.8a2.5 2.5 0 0 0 2.4 2Z"
          fill="currentColor"
        />
      </svg>
      <span className="bell__badge" role="status" aria-label={label} data-testid="unread-badge" data-count={count} hidden={count === 0}>
        {count > 99 ? '99+' : count}
      </span>
    </div>
  );
}
