/** Style sheets imported for their effect by browser pages; esbuild bundles them into the page's .css file. */
declare module '*.css';
