import Markdown from 'react-markdown';
import remarkGfm from 'remark-gfm';

/**
 * A node's Markdown summary (sink.report). react-markdown builds React elements and never injects
 * raw HTML, so text coming from datasets cannot script the page; images are dropped because the
 * report's chart paths point at files on disk, and the charts have their own port view.
 */
export function MarkdownReport({ markdown }: { markdown: string }) {
  return (
    <article className="md-report" data-testid="markdown-report">
      <Markdown remarkPlugins={[remarkGfm]} disallowedElements={['img']} unwrapDisallowed={false}>
        {markdown}
      </Markdown>
    </article>
  );
}
