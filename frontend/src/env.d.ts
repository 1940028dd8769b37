// `import './style.css'` is handled by vite.
declare module '*.css';
