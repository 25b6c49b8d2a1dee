// The example page's script: each `keyhole:` import is a URL signed by the
// plugin when the site is built (see vite.config.js).
import hero from 'keyhole:/private/hero.jpg?w=1200&q=80';
import heroSet, { urls } from 'keyhole:/private/hero.jpg?srcset=320,640,1280';

document.getElementById('hero').src = hero;
const responsive = document.getElementById('responsive');
responsive.srcset = heroSet;
responsive.src = urls.at(-1).url;
