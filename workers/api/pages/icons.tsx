// Small inline SVG icons (decorative: the control around each one carries its name). Inline
// SVG is markup, not script or style, so the page's CSP allows it; no emoji font needed.

function Icon(props: { d: string; class?: string }) {
  return (
    <svg class={`icon ${props.class ?? ""}`.trim()} viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path d={props.d} fill="currentColor" />
    </svg>
  );
}

export const PlayIcon = () => <Icon d="M8 5v14l11-7z" />;
export const PlusIcon = () => <Icon class="icon-off" d="M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z" />;
export const CheckIcon = () => <Icon class="icon-on" d="M9.5 16.2 5.3 12l-1.4 1.4 5.6 5.6 11-11-1.4-1.4z" />;
export const LockIcon = () => <Icon d="M12 2a5 5 0 0 0-5 5v3H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-8a2 2 0 0 0-2-2h-1V7a5 5 0 0 0-5-5zm-3 8V7a3 3 0 0 1 6 0v3z" />;
export const ThumbUpIcon = () => (
  <Icon d="M2 21h4V9H2zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3a1.5 1.5 0 0 0-.5-1.1L13.2 1 6.6 7.6A2 2 0 0 0 6 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7z" />
);
export const ThumbDownIcon = () => (
  <Icon d="M22 3h-4v12h4zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.5 1.1l1 1 6.6-6.6c.4-.4.6-.9.6-1.4V5a2 2 0 0 0-2-2H7a2 2 0 0 0-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7z" />
);

/** The site icon every page's head links (without it the browser asks for /favicon.ico, a 404). */
export const SiteIconLink = () => <link rel="icon" href="/favicon.svg" type="image/svg+xml" />;
